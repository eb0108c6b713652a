/* test_log.c - common/log: toa_log_vline, the one-line form of a library's
 * log message (libmicrohttpd's callbacks in the broker and the simulator). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/log.h"

static void __attribute__ ((format (printf, 3, 4)))
s_line (char *out, size_t size, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    toa_log_vline (out, size, fmt, args);
    va_end (args);
}

static void
test_trailing_newlines_dropped (void **state)
{
    (void) state;
    char line[64];
    s_line (line, sizeof line, "Failed to bind to port %d: %s\n\n", 9464, "in use");
    assert_string_equal (line, "Failed to bind to port 9464: in use");
    s_line (line, sizeof line, "a\nb\n");
    assert_string_equal (line, "a\nb");   /* only the trailing ones */
    s_line (line, sizeof line, "\n");
    assert_string_equal (line, "");
}

static void
test_cut_to_size (void **state)
{
    (void) state;
    char line[8];
    s_line (line, sizeof line, "%s", "0123456789\n");
    assert_string_equal (line, "0123456");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_trailing_newlines_dropped),
        cmocka_unit_test (test_cut_to_size),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
