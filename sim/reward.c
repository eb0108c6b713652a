/* reward.c - the simulator's deterministic reward model (see reward.h). */
#include "sim/reward.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sim/answer.h"

uint64_t
toa_sim_reward_word_hash (const char *word, size_t length)
{
    uint64_t hash = 0xcbf29ce484222325ULL;
    bool any = false;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char) word[i];
        if (isalnum (c) || c >= 0x80) {
            hash ^= (unsigned char) tolower (c);
            hash *= 0x100000001b3ULL;
            any = true;
        }
    }
    return any ? hash | 1 : 0;
}

/* Word hashes of TEXT, sorted. Returns the count; *WORDS is NULL on failure. */
static size_t
s_words (const char *text, size_t length, uint64_t **words)
{
    size_t capacity = length / 2 + 1, count = 0;
    *words = malloc (capacity * sizeof **words);
    if (!*words)
        return 0;
    for (size_t at = 0; at < length;) {
        while (at < length && isspace ((unsigned char) text[at]))
            at++;
        size_t start = at;
        while (at < length && !isspace ((unsigned char) text[at]))
            at++;
        uint64_t hash = toa_sim_reward_word_hash (text + start, at - start);
        if (hash != 0 && count < capacity)
            (*words)[count++] = hash;
    }
    return count;
}

static int
s_compare_hash (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

double
toa_sim_reward_word_f1 (const char *a, size_t a_length, const char *b, size_t b_length)
{
    uint64_t *a_words, *b_words;
    size_t n_a = s_words (a, a_length, &a_words);
    size_t n_b = s_words (b, b_length, &b_words);
    double f1 = 0;
    if (a_words && b_words && n_a > 0 && n_b > 0) {
        qsort (a_words, n_a, sizeof *a_words, s_compare_hash);
        qsort (b_words, n_b, sizeof *b_words, s_compare_hash);
        size_t i = 0, j = 0, common = 0;
        while (i < n_a && j < n_b) {
            if (a_words[i] == b_words[j]) {
                common++;
                i++;
                j++;
            }
            else if (a_words[i] < b_words[j])
                i++;
            else
                j++;
        }
        double precision = (double) common / (double) n_a;
        double recall = (double) common / (double) n_b;
        f1 = common ? 2 * precision * recall / (precision + recall) : 0;
    }
    free (a_words);
    free (b_words);
    return f1;
}

/* A uniform value in [0, 1) from the hash of TEXT. */
static double
s_hash_unit (const char *text, size_t length)
{
    return (double) (toa_splitmix64 (toa_sim_hash (text, length, 0x4e3a)) >> 11) * 0x1.0p-53;
}

/* The final answer of a response split around a known question: a marker
 * after the question, else one before it, else the last number after it. */
static int
s_split_answer (const char *before, size_t before_length, const char *after,
                size_t after_length, double *value)
{
    double values[64];
    size_t n = toa_sim_answer_marked (after, after_length, values, 64);
    if (n > 0) {
        *value = values[n < 64 ? n - 1 : 63];
        return 0;
    }
    n = before_length > 0 ? toa_sim_answer_marked (before, before_length, values, 64) : 0;
    if (n > 0) {
        *value = values[n < 64 ? n - 1 : 63];
        return 0;
    }
    return toa_sim_answer_final (after, after_length, value);
}

double
toa_sim_reward_score (const toa_sim_knowledge_t *knowledge, const char *query,
                      size_t query_length, const char *prompt, const char *label)
{
    const char *response = query;
    size_t response_length = query_length;
    size_t prompt_length = prompt ? strlen (prompt) : 0;
    if (prompt && prompt_length <= query_length && memcmp (query, prompt, prompt_length) == 0) {
        response = query + prompt_length;
        response_length = query_length - prompt_length;
    }
    double jitter = s_hash_unit (query, query_length);
    if (label && *label) {
        double gold, answer;
        if (toa_sim_answer_parse_all (label, &gold) == 0)
            return toa_sim_answer_final (response, response_length, &answer) == 0
                   && toa_sim_answer_equal (answer, gold) ? 1.0 : -1.0;
        return 2.0 * toa_sim_reward_word_f1 (response, response_length, label,
                                             strlen (label)) - 1.0;
    }
    size_t offset = 0;
    const toa_sim_question_t *question = NULL;
    const char *before = NULL, *after = NULL;
    size_t before_length = 0, after_length = 0;
    if (response != query) {
        question = toa_sim_knowledge_find (knowledge, prompt, prompt_length, &offset);
        after = response;
        after_length = response_length;
    }
    else {
        question = toa_sim_knowledge_find (knowledge, query, query_length, &offset);
        if (question) {
            before = query;
            before_length = offset;
            after = query + offset + question->length;
            after_length = query_length - offset - question->length;
        }
    }
    if (!question)
        return 2.0 * jitter - 1.0;
    if (question->kind == TOA_SIM_QUESTION_MATH) {
        double answer;
        if (s_split_answer (before, before_length, after, after_length, &answer) != 0)
            return -1.0;
        return toa_sim_answer_equal (answer, question->gold) ? 0.6 + 0.4 * jitter
                                                             : -1.0 + 0.4 * jitter;
    }
    double f1 = toa_sim_reward_word_f1 (after, after_length, question->reference,
                                        strlen (question->reference));
    if (before_length > 0) {
        double f1_before = toa_sim_reward_word_f1 (before, before_length, question->reference,
                                                   strlen (question->reference));
        f1 = f1_before > f1 ? f1_before : f1;
    }
    return 2.0 * f1 - 1.0;
}
