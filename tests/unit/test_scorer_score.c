/* test_scorer_score.c - score tasks through scorer/score without a network:
 * the built-in verifiers' rewards, missing references, tasks for another
 * backend or of the wrong kind, and batched tasks waiting until flushed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/http.h"
#include "common/util.h"
#include "scorer/chrf.h"
#include "scorer/score.h"

typedef struct {
    int count;
    toa_msg_type_t type[8];
    double reward[8];
    toa_failure_class_t failure_class[8];
    char reason[8][200];
    uint64_t session[8];
} s_answers_t;

static void
s_answer (void *arg, uint64_t session, const toa_msg_t *answer)
{
    s_answers_t *answers = arg;
    int i = answers->count++;
    assert_true (i < 8);
    answers->type[i] = answer->type;
    answers->session[i] = session;
    if (answer->type == TOA_MSG_SCORE_RESULT)
        answers->reward[i] = answer->u.score_result.reward;
    else {
        answers->failure_class[i] = answer->u.task_failure.failure_class;
        snprintf (answers->reason[i], sizeof answers->reason[i], "%s",
                  answer->u.task_failure.reason);
    }
}

/* A score task as the decoder would hand it over (owned strings). */
static toa_msg_t
s_task (uint64_t id, const char *backend, const char *response, const char *reference)
{
    toa_msg_t msg = {.type = TOA_MSG_SCORE_TASK};
    msg.u.score_task.task = id;
    msg.u.score_task.attempt = 1;
    msg.u.score_task.job = strdup ("job");
    msg.u.score_task.backend = strdup (backend);
    msg.u.score_task.messages = calloc (1, sizeof (toa_chat_message_t));
    msg.u.score_task.messages[0].role = strdup ("user");
    msg.u.score_task.messages[0].content = strdup ("What is 6 times 7?");
    msg.u.score_task.n_messages = 1;
    msg.u.score_task.response = strdup (response);
    msg.u.score_task.reference = toa_strdup (reference);
    return msg;
}

typedef struct {
    toa_config_t *config;
    toa_http_t *http;
    toa_score_t *score;
    s_answers_t answers;
} s_fixture_t;

static s_fixture_t *
s_setup (const char *backend)
{
    s_fixture_t *f = calloc (1, sizeof *f);
    char override[100];
    snprintf (override, sizeof override, "reward.backend=%s", backend);
    const char *overrides[] = {override, "reward.url=http://127.0.0.1:9/reward",
                               "reward.batch_wait_ms=60000"};
    toa_errors_t errors = TOA_ERRORS_INIT;
    f->config = toa_config_load (NULL, overrides, 3, &errors);
    assert_non_null (f->config);
    f->http = toa_http_new (NULL);
    f->score = toa_score_new (f->http, &f->config->reward, 4, s_answer, &f->answers, &errors);
    assert_non_null (f->score);
    assert_int_equal (errors.count, 0);
    return f;
}

static void
s_teardown (s_fixture_t *f)
{
    toa_score_destroy (&f->score);
    assert_null (f->score);
    toa_http_destroy (&f->http);
    toa_config_destroy (&f->config);
    free (f);
}

static void
test_math_verify (void **state)
{
    (void) state;
    s_fixture_t *f = s_setup ("math-verify");
    assert_string_equal (toa_score_backend (f->score), "math-verify");
    toa_msg_t right = s_task (1, "math-verify", "6 * 7 = 42. The answer is 42.", "42");
    toa_msg_t wrong = s_task (2, "math-verify", "The answer is 41.", "42");
    toa_msg_t none = s_task (3, "math-verify", "The answer is 42.", NULL);
    toa_msg_t empty = s_task (4, "math-verify", "The answer is 42.", "");
    toa_score_start (f->score, &right, 7);
    toa_score_start (f->score, &wrong, 7);
    toa_score_start (f->score, &none, 7);
    toa_score_start (f->score, &empty, 7);
    assert_int_equal (right.type, TOA_MSG_NONE);     /* contents taken */
    assert_int_equal (f->answers.count, 4);
    assert_int_equal (f->answers.type[0], TOA_MSG_SCORE_RESULT);
    assert_true (f->answers.reward[0] == 1.0);
    assert_int_equal (f->answers.session[0], 7);
    assert_true (f->answers.reward[1] == 0.0);
    for (int i = 2; i < 4; i++) {
        assert_int_equal (f->answers.type[i], TOA_MSG_TASK_FAILURE);
        assert_int_equal (f->answers.failure_class[i], TOA_FAILURE_PERMANENT);
        assert_string_equal (f->answers.reason[i], "no reference");
    }
    assert_int_equal (toa_score_active (f->score), 0);
    toa_score_stats_t stats = toa_score_stats (f->score);
    assert_int_equal (stats.succeeded, 2);
    assert_int_equal (stats.failed_permanent, 2);
    s_teardown (f);
}

static void
test_chrf (void **state)
{
    (void) state;
    s_fixture_t *f = s_setup ("chrf");
    const char *hyp = "The cat sat on the mat.", *ref = "The cat is sitting on the mat.";
    toa_msg_t task = s_task (1, "chrf", hyp, ref);
    toa_score_start (f->score, &task, 1);
    assert_int_equal (f->answers.type[0], TOA_MSG_SCORE_RESULT);
    assert_true (f->answers.reward[0] == toa_chrf (hyp, ref));
    assert_true (f->answers.reward[0] > 0 && f->answers.reward[0] < 100);
    toa_msg_t none = s_task (2, "chrf", hyp, NULL);
    toa_score_start (f->score, &none, 1);
    assert_int_equal (f->answers.failure_class[1], TOA_FAILURE_PERMANENT);
    s_teardown (f);
}

static void
test_refusals (void **state)
{
    (void) state;
    s_fixture_t *f = s_setup ("chrf");
    toa_msg_t other = s_task (1, "math-verify", "x", "y");
    toa_score_start (f->score, &other, 1);
    assert_int_equal (f->answers.type[0], TOA_MSG_TASK_FAILURE);
    assert_int_equal (f->answers.failure_class[0], TOA_FAILURE_PERMANENT);
    assert_non_null (strstr (f->answers.reason[0], "not served by this scorer"));
    toa_msg_t gen = {.type = TOA_MSG_GEN_TASK};
    gen.u.gen_task.task = 9;
    gen.u.gen_task.attempt = 1;
    gen.u.gen_task.model = strdup ("m");
    toa_score_start (f->score, &gen, 1);
    assert_int_equal (f->answers.type[1], TOA_MSG_TASK_FAILURE);
    assert_int_equal (f->answers.failure_class[1], TOA_FAILURE_PERMANENT);
    assert_int_equal (gen.type, TOA_MSG_NONE);
    s_teardown (f);
}

static void
test_batched_wait_and_cancel (void **state)
{
    (void) state;
    /* batch_wait_ms is a minute and batch_size 16: tasks wait, no call yet */
    s_fixture_t *f = s_setup ("http-reward");
    for (uint64_t id = 1; id <= 3; id++) {
        toa_msg_t task = s_task (id, "http-reward", "42", NULL);
        toa_score_start (f->score, &task, 1);
    }
    toa_score_process (f->score, toa_now_ms (), false);
    assert_int_equal (f->answers.count, 0);
    assert_int_equal (toa_score_active (f->score), 3);
    assert_int_equal (toa_score_stats (f->score).calls, 0);
    int64_t wait = toa_score_timeout (f->score, toa_now_ms ());
    assert_true (wait > 50000 && wait <= 60000);
    /* the connection is gone: dropped without answers */
    assert_int_equal (toa_score_cancel_all (f->score), 3);
    assert_int_equal (f->answers.count, 0);
    assert_int_equal (toa_score_timeout (f->score, toa_now_ms ()), -1);

    /* a flush sends one call for everything waiting; failing all answers each */
    for (uint64_t id = 4; id <= 5; id++) {
        toa_msg_t task = s_task (id, "http-reward", "42", NULL);
        toa_score_start (f->score, &task, 2);
    }
    toa_score_process (f->score, toa_now_ms (), true);
    assert_int_equal (toa_score_stats (f->score).calls, 1);
    assert_int_equal (toa_score_fail_all (f->score, "shutting down"), 2);
    assert_int_equal (f->answers.count, 2);
    assert_int_equal (f->answers.failure_class[0], TOA_FAILURE_TRANSIENT);
    assert_string_equal (f->answers.reason[1], "shutting down");
    assert_int_equal (toa_http_pending (f->http), 0);
    s_teardown (f);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_math_verify),
        cmocka_unit_test (test_chrf),
        cmocka_unit_test (test_refusals),
        cmocka_unit_test (test_batched_wait_and_cancel),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
