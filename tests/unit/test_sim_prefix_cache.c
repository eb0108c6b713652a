/* test_sim_prefix_cache.c - the simulator's prefix cache: a prompt seen
 * before hits whole, a prompt sharing its first blocks hits that share, one
 * that differs in its first byte misses, parts read as one text, and a small
 * cache forgets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sim/prefix_cache.h"

static double
s_lookup (toa_sim_prefix_cache_t *cache, const char *a, const char *b)
{
    const char *parts[2] = {a, b};
    size_t lengths[2] = {a ? strlen (a) : 0, b ? strlen (b) : 0};
    return toa_sim_prefix_cache_lookup (cache, parts, lengths, 2);
}

static void
test_prefix_cache (void **state)
{
    (void) state;
    toa_sim_prefix_cache_t *cache = toa_sim_prefix_cache_new (4096);
    assert_non_null (cache);
    char first[257], second[257], other[257];
    memset (first, 'a', 256);
    first[256] = '\0';
    memcpy (second, first, sizeof second);
    memset (second + 128, 'b', 128);          /* shares 2 of 4 blocks */
    memcpy (other, first, sizeof other);
    other[0] = 'z';                           /* shares none: the chain differs */
    assert_true (s_lookup (cache, first, NULL) == 0.0);
    assert_true (s_lookup (cache, first, NULL) == 1.0);
    assert_true (s_lookup (cache, second, NULL) == 0.5);
    assert_true (s_lookup (cache, other, NULL) == 0.0);
    /* A system part and a user part read as one text: the same blocks. */
    char head[65];
    memcpy (head, first, 64);
    head[64] = '\0';
    assert_true (s_lookup (cache, head, first + 64) == 1.0);
    assert_true (s_lookup (cache, NULL, NULL) == 0.0);
    toa_sim_prefix_cache_destroy (&cache);
    assert_null (cache);
    /* One entry: the last block of a prompt takes the place of the others. */
    cache = toa_sim_prefix_cache_new (1);
    s_lookup (cache, first, NULL);
    assert_true (s_lookup (cache, first, NULL) == 0.0);
    toa_sim_prefix_cache_destroy (&cache);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_prefix_cache),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
