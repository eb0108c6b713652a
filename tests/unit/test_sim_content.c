/* test_sim_content.c - toa-simllm's pure parts: token counting, answer
 * extraction, the question index, the content generator, the reward model
 * and the chat request/response body. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "sim/answer.h"
#include "sim/chat.h"
#include "sim/content.h"
#include "sim/knowledge.h"
#include "sim/reward.h"
#include "sim/tokens.h"

static const char *s_question =
    "A baker makes 24 muffins in the morning and 18 in the afternoon. She sells 30 of them. "
    "How many muffins are left?";
static const char *s_source = "Die Bibliothek ist am Sonntag geschlossen.";
static const char *s_translate = "Translate to English: Die Bibliothek ist am Sonntag geschlossen.";
static const char *s_reference = "The library is closed on Sunday.";

static toa_sim_model_config_t
s_model (const char *id, double skill)
{
    toa_sim_model_config_t model;
    memset (&model, 0, sizeof model);
    model.model_id = (char *) id;
    model.math_skill = skill;
    model.skill_spread = 0.2;
    model.fix_prob = 0.3;
    model.spoil_prob = 0.05;
    model.translation_noise = 0.3;
    model.refine_gain = 0.5;
    model.slots = 1;
    return model;
}

static toa_sim_knowledge_t *
s_knowledge (void)
{
    toa_sim_knowledge_t *knowledge = toa_sim_knowledge_new ();
    assert_non_null (knowledge);
    assert_int_equal (toa_sim_knowledge_add (knowledge, s_question, "12", NULL, NULL), 0);
    assert_int_equal (toa_sim_knowledge_add (knowledge, s_translate, NULL, s_reference,
                                             s_source), 0);
    return knowledge;
}

static char *
s_generate (const toa_sim_model_config_t *model, const toa_sim_knowledge_t *knowledge,
            const char *user, uint64_t seed)
{
    toa_sim_prompt_t prompt = {NULL, 0, user, strlen (user)};
    char *text = toa_sim_content_generate (model, knowledge, &prompt, seed);
    assert_non_null (text);
    return text;
}

static void
test_tokens (void **state)
{
    (void) state;
    assert_int_equal (toa_sim_tokens_count ("", 0), 0);
    /* "Hell" "o" "," " worl" "d" "!" */
    assert_int_equal (toa_sim_tokens_count ("Hello, world!", 13), 6);
    assert_int_equal (toa_sim_tokens_count ("  a  b ", 7), 2);
    const char *text = "The quick brown fox, the lazy dog; 1234567 and \xc3\xa4pfel!";
    size_t length = strlen (text), total = toa_sim_tokens_count (text, length);
    for (size_t k = 0; k < total; k++) {
        size_t prefix = toa_sim_tokens_prefix (text, length, k);
        assert_int_equal (toa_sim_tokens_count (text, prefix), k);
        assert_true ((((unsigned char) text[prefix]) & 0xC0) != 0x80);   /* no split UTF-8 */
    }
    assert_int_equal (toa_sim_tokens_prefix (text, length, total), length);
    assert_int_equal (toa_sim_tokens_prefix (text, length, total + 5), length);
}

static void
test_answers (void **state)
{
    (void) state;
    double value;
    const char *a = "So 72 + 90 = 162.\n#### 1,128";
    assert_int_equal (toa_sim_answer_final (a, strlen (a), &value), 0);
    assert_true (toa_sim_answer_equal (value, 1128));
    const char *b = "The answer is $42.";
    assert_int_equal (toa_sim_answer_final (b, strlen (b), &value), 0);
    assert_true (toa_sim_answer_equal (value, 42));
    const char *c = "It went down to -3.5 degrees";
    assert_int_equal (toa_sim_answer_final (c, strlen (c), &value), 0);
    assert_true (toa_sim_answer_equal (value, -3.5));
    assert_int_equal (toa_sim_answer_final ("no numbers", 10, &value), -1);
    const char *d = "#### 5 then #### 7 and #### 5";
    double values[4];
    assert_int_equal (toa_sim_answer_marked (d, strlen (d), values, 4), 3);
    assert_true (toa_sim_answer_equal (values[1], 7));
    assert_int_equal (toa_sim_answer_final (d, strlen (d), &value), 0);
    assert_true (toa_sim_answer_equal (value, 5));
    assert_int_equal (toa_sim_answer_parse_all (" 1,000 ", &value), 0);
    assert_true (toa_sim_answer_equal (value, 1000));
    assert_int_equal (toa_sim_answer_parse_all ("12 apples", &value), -1);
    char buffer[32];
    assert_string_equal (toa_sim_answer_format (30000, buffer, sizeof buffer), "30000");
    assert_string_equal (toa_sim_answer_format (-2.5, buffer, sizeof buffer), "-2.5");
}

static void
test_knowledge_lookup (void **state)
{
    (void) state;
    toa_sim_knowledge_t *knowledge = s_knowledge ();
    assert_int_equal (toa_sim_knowledge_add (knowledge, s_question, "12", NULL, NULL), 1);
    assert_int_equal (toa_sim_knowledge_add (knowledge, "What is six?", "six", NULL, NULL), -1);
    assert_int_equal (toa_sim_knowledge_add (knowledge, "What is 2+2?", "4", NULL, NULL), 0);
    /* a longer question that contains a shorter known one wins */
    char longer[512];
    snprintf (longer, sizeof longer, "%s Then she bakes 5 more.", s_question);
    assert_int_equal (toa_sim_knowledge_add (knowledge, longer, "17", NULL, NULL), 0);
    assert_int_equal (toa_sim_knowledge_count (knowledge), 4);
    size_t offset = 99;
    const toa_sim_question_t *q = toa_sim_knowledge_find (knowledge, s_question,
                                                          strlen (s_question), &offset);
    assert_non_null (q);
    assert_int_equal (offset, 0);
    assert_true (toa_sim_answer_equal (q->gold, 12));
    assert_int_equal (q->n_numbers, 3);
    char prompt[2048];
    snprintf (prompt, sizeof prompt,
              "Below is a question and an earlier answer.\n\nQuestion:\n%s\n\nEarlier answer:\n"
              "#### 13\n", s_question);
    q = toa_sim_knowledge_find (knowledge, prompt, strlen (prompt), &offset);
    assert_non_null (q);
    assert_int_equal (q->length, strlen (s_question));
    assert_int_equal (offset, strstr (prompt, s_question) - prompt);
    snprintf (prompt, sizeof prompt, "Refine: %s ####", longer);
    q = toa_sim_knowledge_find (knowledge, prompt, strlen (prompt), &offset);
    assert_non_null (q);
    assert_true (toa_sim_answer_equal (q->gold, 17));
    q = toa_sim_knowledge_find (knowledge, "  What is 2+2?\n", 15, &offset);
    assert_non_null (q);
    assert_int_equal (offset, 2);
    q = toa_sim_knowledge_find (knowledge, "Q: What is 2+2? A:", 18, &offset);
    assert_non_null (q);
    assert_int_equal (offset, 3);
    assert_null (toa_sim_knowledge_find (knowledge, "something else entirely, of some length", 39,
                                         NULL));
    const toa_sim_question_t *t = toa_sim_knowledge_find (knowledge, s_translate,
                                                          strlen (s_translate), NULL);
    assert_non_null (t);
    assert_int_equal (t->kind, TOA_SIM_QUESTION_TRANSLATION);
    assert_string_equal (t->reference, s_reference);
    toa_sim_knowledge_destroy (&knowledge);
    toa_sim_knowledge_destroy (&knowledge);
    assert_null (knowledge);
}

static void
test_knowledge_many (void **state)
{
    (void) state;
    toa_sim_knowledge_t *knowledge = toa_sim_knowledge_new ();
    char question[128];
    for (int i = 0; i < 2000; i++) {
        snprintf (question, sizeof question, "Question number %d: how many apples are there?", i);
        assert_int_equal (toa_sim_knowledge_add (knowledge, question, "3", NULL, NULL), 0);
    }
    for (int i = 0; i < 2000; i += 37) {
        char prompt[256];
        snprintf (prompt, sizeof prompt,
                  "Improve this. Question number %d: how many apples are there? #### 2", i);
        size_t offset;
        const toa_sim_question_t *q = toa_sim_knowledge_find (knowledge, prompt, strlen (prompt),
                                                              &offset);
        assert_non_null (q);
        assert_int_equal (offset, 14);
        snprintf (question, sizeof question, "Question number %d: how many apples are there?", i);
        assert_string_equal (q->text, question);
    }
    toa_sim_knowledge_destroy (&knowledge);
}

static void
test_knowledge_load (void **state)
{
    (void) state;
    char path[] = "/tmp/test_sim_content.XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    const char *lines =
        "{\"id\": 1, \"instruction\": \"How many legs do 3 cats have in total?\", \"gold_answer\": \"12\"}\n"
        "\n"
        "{\"id\": 2, \"instruction\": \"Just chat with me about the weather today\"}\n"
        "{\"id\": 3, \"messages\": [{\"role\": \"user\", \"content\": \"Translate: Guten Morgen, liebe Freunde\"}], \"en\": \"Good morning, dear friends\"}\n"
        "{\"id\": 4, \"instruction\": \"How many legs do 4 cats have in total?\", \"gold_answer\": 16}\n"
        "not json\n"
        "{\"id\": 6, \"instruction\": \"How many legs do 5 cats have?\", \"gold_answer\": \"many\"}\n";
    assert_int_equal (write (fd, lines, strlen (lines)), (ssize_t) strlen (lines));
    close (fd);
    toa_sim_knowledge_t *knowledge = toa_sim_knowledge_new ();
    toa_errors_t errors = TOA_ERRORS_INIT;
    assert_int_equal (toa_sim_knowledge_load (knowledge, path, &errors), -1);
    assert_int_equal (errors.count, 2);
    char where[300];
    snprintf (where, sizeof where, "%s:6: invalid JSON", path);
    assert_non_null (strstr (errors.messages[0], where));
    snprintf (where, sizeof where, "%s:7: gold_answer: not a number", path);
    assert_non_null (strstr (errors.messages[1], where));
    assert_int_equal (toa_sim_knowledge_count (knowledge), 3);
    const char *text = "Translate: Guten Morgen, liebe Freunde";
    assert_non_null (toa_sim_knowledge_find (knowledge, text, strlen (text), NULL));
    toa_errors_clear (&errors);
    assert_int_equal (toa_sim_knowledge_load (knowledge, "/nonexistent/file.jsonl", &errors), -1);
    assert_int_equal (errors.count, 1);
    toa_errors_clear (&errors);
    toa_sim_knowledge_destroy (&knowledge);
    unlink (path);
}

static bool
s_answer_is (const char *text, double expected)
{
    double value;
    return toa_sim_answer_final (text, strlen (text), &value) == 0
           && toa_sim_answer_equal (value, expected);
}

static void
test_math_accuracy_and_determinism (void **state)
{
    (void) state;
    toa_sim_knowledge_t *knowledge = s_knowledge ();
    toa_sim_model_config_t model = s_model ("model-a", 0.5);
    const toa_sim_question_t *q = toa_sim_knowledge_get (knowledge, 0);
    double p = toa_sim_content_math_skill (&model, q);
    assert_true (p >= 0.3 - 1e-9 && p <= 0.7 + 1e-9);
    int right = 0, n = 4000;
    for (int seed = 0; seed < n; seed++) {
        char *text = s_generate (&model, knowledge, s_question, (uint64_t) seed);
        assert_non_null (strstr (text, "#### "));
        double value;
        assert_int_equal (toa_sim_answer_final (text, strlen (text), &value), 0);
        if (toa_sim_answer_equal (value, 12))
            right++;
        else
            assert_true (fabs (value - 12) <= 50);   /* plausible, never equal */
        free (text);
    }
    assert_true (fabs ((double) right / n - p) < 0.03);
    char *one = s_generate (&model, knowledge, s_question, 77);
    char *two = s_generate (&model, knowledge, s_question, 77);
    assert_string_equal (one, two);
    free (one);
    free (two);
    /* clamped to [0.02, 0.98] */
    toa_sim_model_config_t perfect = s_model ("perfect", 1.0);
    assert_true (fabs (toa_sim_content_math_skill (&perfect, q) - 0.98) < 1e-9);
    toa_sim_knowledge_destroy (&knowledge);
}

static void
test_models_differ_by_question (void **state)
{
    (void) state;
    toa_sim_knowledge_t *knowledge = toa_sim_knowledge_new ();
    char question[128];
    for (int i = 0; i < 50; i++) {
        snprintf (question, sizeof question, "How many marbles does child %d have now?", i);
        toa_sim_knowledge_add (knowledge, question, "5", NULL, NULL);
    }
    toa_sim_model_config_t a = s_model ("alpha", 0.5), b = s_model ("beta", 0.5);
    a.skill_spread = b.skill_spread = 0.3;
    int a_better = 0, b_better = 0;
    for (size_t i = 0; i < 50; i++) {
        const toa_sim_question_t *q = toa_sim_knowledge_get (knowledge, i);
        double pa = toa_sim_content_math_skill (&a, q), pb = toa_sim_content_math_skill (&b, q);
        a_better += pa > pb;
        b_better += pb > pa;
    }
    assert_true (a_better >= 10 && b_better >= 10);
    toa_sim_knowledge_destroy (&knowledge);
}

static char *
s_refine_prompt (const char *earlier)
{
    char *prompt = malloc (4096);
    snprintf (prompt, 4096,
              "Below is a question and an earlier answer to it.\n\nQuestion:\n%s\n\n"
              "Earlier answer:\n%s\n\nWrite an improved answer.", s_question, earlier);
    return prompt;
}

static void
test_math_refinement (void **state)
{
    (void) state;
    toa_sim_knowledge_t *knowledge = s_knowledge ();
    toa_sim_model_config_t model = s_model ("model-a", 0.5);
    char *wrong = s_refine_prompt ("We add and subtract.\n#### 15");
    char *right = s_refine_prompt ("We add and subtract.\n#### 12");
    for (uint64_t seed = 0; seed < 50; seed++) {
        model.fix_prob = 1.0;
        char *text = s_generate (&model, knowledge, wrong, seed);
        assert_true (s_answer_is (text, 12));
        free (text);
        model.fix_prob = 0.0;
        text = s_generate (&model, knowledge, wrong, seed);
        assert_true (s_answer_is (text, 15));   /* keeps the earlier wrong answer */
        free (text);
        model.spoil_prob = 0.0;
        text = s_generate (&model, knowledge, right, seed);
        assert_true (s_answer_is (text, 12));
        free (text);
        model.spoil_prob = 1.0;
        text = s_generate (&model, knowledge, right, seed);
        assert_false (s_answer_is (text, 12));
        free (text);
    }
    /* fix_prob 0.3: about 30% fixed */
    model.fix_prob = 0.3;
    int fixed = 0;
    for (uint64_t seed = 0; seed < 2000; seed++) {
        char *text = s_generate (&model, knowledge, wrong, seed);
        fixed += s_answer_is (text, 12);
        free (text);
    }
    assert_true (fabs (fixed / 2000.0 - 0.3) < 0.04);
    /* aggregation: the responses come before the question, majority wins */
    char aggregate[4096];
    snprintf (aggregate, sizeof aggregate,
              "Responses from models:\n1. #### 12\n2. #### 9\n3. #### 12\n\nUser query:\n%s",
              s_question);
    model.spoil_prob = 0.0;
    char *text = s_generate (&model, knowledge, aggregate, 5);
    assert_true (s_answer_is (text, 12));
    free (text);
    snprintf (aggregate, sizeof aggregate,
              "Responses from models:\n1. #### 9\n2. #### 9\n3. #### 12\n\nUser query:\n%s",
              s_question);
    model.fix_prob = 0.0;
    text = s_generate (&model, knowledge, aggregate, 5);
    assert_true (s_answer_is (text, 9));
    free (text);
    free (wrong);
    free (right);
    toa_sim_knowledge_destroy (&knowledge);
}

static void
test_translation (void **state)
{
    (void) state;
    toa_sim_knowledge_t *knowledge = s_knowledge ();
    toa_sim_model_config_t model = s_model ("model-a", 0.5);
    model.translation_noise = 0.0;
    char *text = s_generate (&model, knowledge, s_translate, 1);
    assert_string_equal (text, s_reference);
    free (text);
    model.translation_noise = 0.5;
    double f1_fresh = 0, f1_refined = 0;
    char refine[1024];
    snprintf (refine, sizeof refine, "Question:\n%s\n\nEarlier answer:\nThe library is shut on Sunday.",
              s_translate);
    for (uint64_t seed = 0; seed < 400; seed++) {
        text = s_generate (&model, knowledge, s_translate, seed);
        f1_fresh += toa_sim_reward_word_f1 (text, strlen (text), s_reference, strlen (s_reference));
        free (text);
        text = s_generate (&model, knowledge, refine, seed);
        f1_refined += toa_sim_reward_word_f1 (text, strlen (text), s_reference,
                                              strlen (s_reference));
        free (text);
    }
    assert_true (f1_fresh / 400 < 0.8);
    assert_true (f1_refined > f1_fresh + 400 * 0.1);
    model.refine_gain = 1.0;
    text = s_generate (&model, knowledge, refine, 3);
    assert_string_equal (text, s_reference);
    free (text);
    toa_sim_knowledge_destroy (&knowledge);
}

static void
test_filler_and_judge (void **state)
{
    (void) state;
    toa_sim_knowledge_t *knowledge = s_knowledge ();
    toa_sim_model_config_t model = s_model ("model-a", 0.5);
    char *text = s_generate (&model, knowledge, "Tell me about the sea.", 4);
    assert_true (strlen (text) > 40);
    char *again = s_generate (&model, knowledge, "Tell me about the sea.", 4);
    assert_string_equal (text, again);
    free (again);
    again = s_generate (&model, knowledge, "Tell me about the sea.", 5);
    assert_string_not_equal (text, again);
    free (again);
    free (text);
    char judge[2048];
    snprintf (judge, sizeof judge,
              "Rate the response on a scale of 1 to 10 as \"[[rating]]\".\n[Question]\n%s\n\n"
              "[The Start of Assistant's Answer]\n#### 12\n[The End of Assistant's Answer]",
              s_question);
    text = s_generate (&model, knowledge, judge, 1);
    const char *rating = strstr (text, "[[");
    assert_non_null (rating);
    assert_true (atoi (rating + 2) >= 8);
    free (text);
    snprintf (judge, sizeof judge,
              "Rate the response on a scale of 1 to 10 as \"[[rating]]\".\n[Question]\n%s\n\n"
              "[The Start of Assistant's Answer]\n#### 31\n[The End of Assistant's Answer]",
              s_question);
    text = s_generate (&model, knowledge, judge, 1);
    rating = strstr (text, "[[");
    assert_non_null (rating);
    assert_true (atoi (rating + 2) <= 3);
    free (text);
    snprintf (judge, sizeof judge,
              "Rate the response on a scale of 1 to 5.\n[Question]\n%s\n\n"
              "[The Start of Assistant's Answer]\n#### 12\n[The End of Assistant's Answer]",
              s_question);
    for (uint64_t seed = 0; seed < 20; seed++) {
        text = s_generate (&model, knowledge, judge, seed);
        rating = strstr (text, "[[");
        assert_non_null (rating);
        assert_true (atoi (rating + 2) >= 3 && atoi (rating + 2) <= 5);   /* 4..5, wobble 1 */
        free (text);
    }
    toa_sim_knowledge_destroy (&knowledge);
}

static void
test_reward (void **state)
{
    (void) state;
    toa_sim_knowledge_t *knowledge = s_knowledge ();
    const char *query = "Question? Let me think.\n#### 12";
    assert_true (toa_sim_reward_score (knowledge, query, strlen (query), NULL, "12") == 1.0);
    assert_true (toa_sim_reward_score (knowledge, query, strlen (query), NULL, "13") == -1.0);
    char joined[1024];
    snprintf (joined, sizeof joined, "%s\n\nSo 24 + 18 - 30 = 12.\n#### 12", s_question);
    double right = toa_sim_reward_score (knowledge, joined, strlen (joined), NULL, NULL);
    assert_true (right >= 0.6 && right <= 1.0);
    snprintf (joined, sizeof joined, "%s\n\nSo the answer is 11.", s_question);
    double wrong = toa_sim_reward_score (knowledge, joined, strlen (joined), NULL, NULL);
    assert_true (wrong >= -1.0 && wrong <= -0.6);
    /* with the prompt given, the response is what follows it */
    snprintf (joined, sizeof joined, "%s#### 12", s_question);
    assert_true (toa_sim_reward_score (knowledge, joined, strlen (joined), s_question, NULL) >= 0.6);
    snprintf (joined, sizeof joined, "%s The library is closed on Sunday.", s_translate);
    assert_true (toa_sim_reward_score (knowledge, joined, strlen (joined), s_translate, NULL) > 0.99);
    const char *unknown = "What is love? Baby don't hurt me.";
    double h1 = toa_sim_reward_score (knowledge, unknown, strlen (unknown), NULL, NULL);
    double h2 = toa_sim_reward_score (knowledge, unknown, strlen (unknown), NULL, NULL);
    assert_true (h1 == h2 && h1 >= -1.0 && h1 <= 1.0);
    assert_true (toa_sim_reward_word_f1 ("a b c", 5, "a b c", 5) == 1.0);
    assert_true (toa_sim_reward_word_f1 ("x y", 3, "a b c", 5) == 0.0);
    toa_sim_knowledge_destroy (&knowledge);
}

static void
test_chat_parse (void **state)
{
    (void) state;
    toa_sim_chat_request_t request;
    char error[256];
    const char *bad[] = {
        "{not json",
        "[1, 2]",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
        "{\"model\": \"m\"}",
        "{\"model\": \"m\", \"messages\": []}",
        "{\"model\": \"m\", \"messages\": [{\"content\": \"hi\"}]}",
        "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": 5}]}",
        "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"n\": 0}",
        "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": -1}",
        "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stop\": 3}",
        "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": 9}",
        "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stream\": true}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        error[0] = '\0';
        assert_int_equal (toa_sim_chat_parse (bad[i], strlen (bad[i]), &request, error,
                                              sizeof error), -1);
        assert_true (strlen (error) > 5);
        assert_null (request.root);
    }
    const char *good =
        "{\"model\": \"m\", \"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"},"
        "{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"Hello\"},"
        "{\"type\": \"text\", \"text\": \"there\"}]}], \"n\": 3, \"max_tokens\": 7,"
        "\"stop\": [\"a\", \"b\"], \"seed\": 42, \"temperature\": 0.7}";
    assert_int_equal (toa_sim_chat_parse (good, strlen (good), &request, error, sizeof error), 0);
    assert_string_equal (request.model, "m");
    assert_string_equal (request.prompt.user, "Hello\nthere");
    assert_string_equal (request.prompt.system, "Be brief.");
    assert_int_equal (request.n, 3);
    assert_int_equal (request.max_tokens, 7);
    assert_int_equal (request.n_stop, 2);
    assert_true (request.has_seed && request.seed == 42);
    /* priming 3; per message 4 + "Be" "brie" "f" "." and "Hell" "o" "ther" "e" */
    assert_int_equal (request.prompt_tokens, 3 + (4 + 4) + (4 + 4));
    toa_sim_chat_request_clear (&request);
    toa_sim_chat_request_clear (&request);
}

static void
test_chat_respond (void **state)
{
    (void) state;
    toa_sim_knowledge_t *knowledge = s_knowledge ();
    toa_sim_model_config_t model = s_model ("m", 0.5);
    char body[1024];
    snprintf (body, sizeof body,
              "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"%s\"}],"
              " \"n\": 4, \"max_tokens\": 10}", s_question);
    toa_sim_chat_request_t request;
    char error[256];
    assert_int_equal (toa_sim_chat_parse (body, strlen (body), &request, error, sizeof error), 0);
    toa_sim_chat_result_t result;
    assert_int_equal (toa_sim_chat_respond (&request, &model, knowledge, 9, "chatcmpl-x", 1,
                                            &result), 0);
    json_t *root = json_loads (result.body, 0, NULL);
    assert_non_null (root);
    json_t *choices = json_object_get (root, "choices");
    assert_int_equal (json_array_size (choices), 4);
    for (size_t i = 0; i < 4; i++) {
        json_t *choice = json_array_get (choices, i);
        assert_int_equal (json_integer_value (json_object_get (choice, "index")), i);
        assert_string_equal (json_string_value (json_object_get (choice, "finish_reason")),
                             "length");
        const char *content = json_string_value (
            json_object_get (json_object_get (choice, "message"), "content"));
        assert_int_equal (toa_sim_tokens_count (content, strlen (content)), 10);
    }
    json_t *usage = json_object_get (root, "usage");
    assert_int_equal (json_integer_value (json_object_get (usage, "completion_tokens")), 40);
    assert_int_equal (json_integer_value (json_object_get (usage, "total_tokens")),
                      40 + json_integer_value (json_object_get (usage, "prompt_tokens")));
    assert_int_equal (result.max_choice_tokens, 10);
    json_decref (root);
    toa_sim_chat_result_clear (&result);
    toa_sim_chat_request_clear (&request);
    /* stop: cut before "####", finish "stop" */
    snprintf (body, sizeof body,
              "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"%s\"}],"
              " \"stop\": [\"####\"]}", s_question);
    assert_int_equal (toa_sim_chat_parse (body, strlen (body), &request, error, sizeof error), 0);
    assert_int_equal (toa_sim_chat_respond (&request, &model, knowledge, 9, "chatcmpl-x", 1,
                                            &result), 0);
    assert_null (strstr (result.body, "####"));
    assert_non_null (strstr (result.body, "\"finish_reason\":\"stop\""));
    toa_sim_chat_result_clear (&result);
    toa_sim_chat_request_clear (&request);
    const char *stops[] = {"xyz", "lo w"};
    assert_int_equal (toa_sim_chat_apply_stop ("hello world", 11, stops, 2), 3);
    assert_int_equal (toa_sim_chat_apply_stop ("hello world", 11, stops, 1), 11);
    toa_sim_knowledge_destroy (&knowledge);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_tokens),
        cmocka_unit_test (test_answers),
        cmocka_unit_test (test_knowledge_lookup),
        cmocka_unit_test (test_knowledge_many),
        cmocka_unit_test (test_knowledge_load),
        cmocka_unit_test (test_math_accuracy_and_determinism),
        cmocka_unit_test (test_models_differ_by_question),
        cmocka_unit_test (test_math_refinement),
        cmocka_unit_test (test_translation),
        cmocka_unit_test (test_filler_and_judge),
        cmocka_unit_test (test_reward),
        cmocka_unit_test (test_chat_parse),
        cmocka_unit_test (test_chat_respond),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
