/* test_client_status.c - `toa status` output: the aligned table and JSON;
 * and the job ids `toa submit` makes and accepts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/status.h"
#include "client/submit.h"

static char *
s_table (const toa_job_status_t *jobs, size_t n)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    toa_status_write_table (out, jobs, n);
    fclose (out);
    return text;
}

static void
test_table (void **state)
{
    (void) state;
    toa_job_status_t jobs[2] = {
        {.job = (char *) "20261127-094000-a1b2c3", .state = (char *) "running",
         .method = (char *) "toa", .total = 100, .done = 42, .active = 8, .generations = 510,
         .failed = 3, .waiting = (char *) "no worker serves model sim-beta"},
        {.job = (char *) "j2", .state = (char *) "done", .method = (char *) "best-of-n",
         .total = 5, .done = 5, .waiting = (char *) ""},
    };
    char *text = s_table (jobs, 2);
    assert_string_equal (text,
        "JOB                     STATE    METHOD     DONE/TOTAL  ACTIVE  GENERATIONS  FAILED  WAITING\n"
        "20261127-094000-a1b2c3  running  toa            42/100       8          510       3  no worker serves model sim-beta\n"
        "j2                      done     best-of-n         5/5       0            0       0\n");
    free (text);
    text = s_table (NULL, 0);
    assert_string_equal (text, "no jobs\n");
    free (text);
}

static void
test_json (void **state)
{
    (void) state;
    toa_job_status_t job = {.job = (char *) "j", .state = (char *) "running",
                            .method = (char *) "moa", .total = 9, .done = 2, .fetched = 1,
                            .active = 3, .generations = 17, .failed = 1, .waiting = NULL};
    json_t *json = toa_status_json (&job, 1);
    char *text = json_dumps (json, JSON_COMPACT);
    assert_string_equal (text, "{\"jobs\":[{\"job\":\"j\",\"state\":\"running\",\"method\":\"moa\","
                               "\"total\":9,\"done\":2,\"fetched\":1,\"active\":3,"
                               "\"generations\":17,\"failed\":1,\"waiting\":\"\"}]}");
    free (text);
    json_decref (json);
}

static void
test_job_ids (void **state)
{
    (void) state;
    char id[32];
    /* 2026-11-27 09:40:05 UTC */
    assert_string_equal (toa_submit_job_id (1795772405, 0xa1b2c3d4u, id, sizeof id),
                         "20261127-094005-b2c3d4");
    assert_true (toa_submit_job_id_valid (id));
    assert_true (toa_submit_job_id_valid ("a"));
    assert_true (toa_submit_job_id_valid ("run_1.2-x"));
    assert_false (toa_submit_job_id_valid (""));
    assert_false (toa_submit_job_id_valid ("has space"));
    assert_false (toa_submit_job_id_valid ("slash/no"));
    char long_id[80];
    memset (long_id, 'a', 65);
    long_id[65] = '\0';
    assert_false (toa_submit_job_id_valid (long_id));
    long_id[64] = '\0';
    assert_true (toa_submit_job_id_valid (long_id));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_table),
        cmocka_unit_test (test_json),
        cmocka_unit_test (test_job_ids),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
