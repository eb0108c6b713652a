/* content.c - what a simulated model answers (see content.h). */
#include "sim/content.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sim/answer.h"
#include "sim/reward.h"

#define S_MAX_EARLIER 32

typedef struct {
    char *data;
    size_t length;
    size_t capacity;
    bool failed;
} s_text_t;

static void
s_append (s_text_t *text, const char *bytes, size_t length)
{
    if (text->failed)
        return;
    if (text->length + length + 1 > text->capacity) {
        size_t capacity = text->capacity ? text->capacity : 256;
        while (capacity < text->length + length + 1)
            capacity *= 2;
        char *data = realloc (text->data, capacity);
        if (!data) {
            text->failed = true;
            return;
        }
        text->data = data;
        text->capacity = capacity;
    }
    memcpy (text->data + text->length, bytes, length);
    text->length += length;
    text->data[text->length] = '\0';
}

static void
s_appendf (s_text_t *text, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_appendf (s_text_t *text, const char *fmt, ...)
{
    char line[512];
    va_list args;
    va_start (args, fmt);
    int length = vsnprintf (line, sizeof line, fmt, args);
    va_end (args);
    if (length < 0)
        return;
    s_append (text, line, (size_t) length < sizeof line ? (size_t) length : sizeof line - 1);
}

static void
s_puts (s_text_t *text, const char *string)
{
    s_append (text, string, strlen (string));
}

static char *
s_finish (s_text_t *text)
{
    if (text->failed || !text->data) {
        free (text->data);
        return text->failed ? NULL : strdup ("");
    }
    return text->data;
}

static size_t
s_pick (uint64_t *rng, size_t n)
{
    size_t i = (size_t) (toa_random_uniform (rng) * (double) n);
    return i < n ? i : n - 1;
}

static const char *const s_vocabulary[] = {
    "the", "answer", "depends", "on", "context", "and", "a", "careful", "approach",
    "helps", "here", "we", "consider", "several", "points", "first", "second", "also",
    "important", "because", "it", "is", "often", "useful", "to", "think", "about",
    "what", "matters", "most", "for", "your", "goal", "in", "practice", "many",
    "people", "find", "that", "simple", "steps", "work", "well", "when", "they",
    "are", "clear", "specific", "example", "could", "be", "plan", "time", "small",
    "changes", "make", "difference", "over", "way", "good", "result", "depends",
    "should", "keep", "mind", "option", "choose", "better", "can", "each", "part",
    "information", "questions", "more", "detail", "explain", "reason", "finally",
};
#define S_VOCABULARY_SIZE (sizeof s_vocabulary / sizeof s_vocabulary[0])

/* h(m,q) in [-1, 1]: where MODEL stands on QUESTION. */
static double
s_model_question_h (const toa_sim_model_config_t *model, const toa_sim_question_t *question)
{
    const char *id = model->model_id ? model->model_id : "";
    uint64_t mixed = toa_splitmix64 (toa_sim_hash (id, strlen (id), 0x5eed) ^ question->hash);
    return (double) (mixed >> 11) * 0x1.0p-53 * 2.0 - 1.0;
}

double
toa_sim_content_math_skill (const toa_sim_model_config_t *model,
                            const toa_sim_question_t *question)
{
    double p = model->math_skill + model->skill_spread * s_model_question_h (model, question);
    return p < 0.02 ? 0.02 : p > 0.98 ? 0.98 : p;
}

/* A plausible wrong answer: GOLD plus a small nonzero offset. */
static double
s_wrong_answer (double gold, uint64_t *rng)
{
    double magnitude = fabs (gold) * 0.2;
    long span = magnitude < 3 ? 3 : magnitude > 50 ? 50 : (long) magnitude;
    double offset = (double) (1 + (long) s_pick (rng, (size_t) span));
    bool down = toa_random_uniform (rng) < 0.5 && gold - offset >= 0;
    if (gold < 0)
        down = toa_random_uniform (rng) < 0.5;
    if (gold != floor (gold))
        offset = offset / 2.0;
    double wrong = down ? gold - offset : gold + offset;
    return toa_sim_answer_equal (wrong, gold) ? gold + 1 : wrong;
}

/* A chain of thought over the question's numbers whose arithmetic is right
 * step by step and whose last step lands on ANSWER, then "#### ANSWER". */
static void
s_math_steps (s_text_t *text, const toa_sim_question_t *question, double answer, uint64_t *rng)
{
    char a[48], b[48], r[48];
    size_t n = question->n_numbers;
    double running = n > 0 ? question->numbers[0] : 0;
    size_t step = 1;
    if (n >= 2) {
        s_appendf (text, "The question gives us %s and %s",
                   toa_sim_answer_format (question->numbers[0], a, sizeof a),
                   toa_sim_answer_format (question->numbers[1], b, sizeof b));
        if (n >= 3)
            s_appendf (text, ", as well as %s",
                       toa_sim_answer_format (question->numbers[2], a, sizeof a));
        s_puts (text, ".\n");
        size_t steps = 1 + s_pick (rng, n - 1 < 3 ? n - 1 : 3);
        for (size_t i = 1; i <= steps && i < n; i++, step++) {
            double x = question->numbers[i];
            size_t op = s_pick (rng, 3);
            double result = op == 0 ? running + x : op == 1 ? running * x : running - x;
            if (fabs (result) > 1e12)
                result = running + x, op = 0;
            const char *symbol = op == 0 ? "+" : op == 1 ? "*" : "-";
            s_appendf (text, "Step %zu: %s %s %s = %s.\n", step,
                       toa_sim_answer_format (running, a, sizeof a), symbol,
                       toa_sim_answer_format (x, b, sizeof b),
                       toa_sim_answer_format (result, r, sizeof r));
            running = result;
        }
    }
    else
        s_puts (text, "We set up the computation from the facts in the question.\n");
    double rest = answer - running;
    if (!toa_sim_answer_equal (rest, 0))
        s_appendf (text, "Step %zu: %s %s %s = %s.\n", step,
                   toa_sim_answer_format (running, a, sizeof a), rest >= 0 ? "+" : "-",
                   toa_sim_answer_format (fabs (rest), b, sizeof b),
                   toa_sim_answer_format (answer, r, sizeof r));
    static const char *const closings[] = {
        "Putting the steps together, the answer is %s.\n",
        "So the final result is %s.\n",
        "Therefore the answer is %s.\n",
    };
    s_appendf (text, closings[s_pick (rng, 3)], toa_sim_answer_format (answer, r, sizeof r));
    s_appendf (text, "#### %s", r);
}

/* The most frequent of VALUES (ties: the one listed first). */
static double
s_majority (const double *values, size_t n)
{
    size_t best = 0, best_count = 0;
    for (size_t i = 0; i < n; i++) {
        size_t count = 0;
        for (size_t j = 0; j < n; j++)
            if (toa_sim_answer_equal (values[i], values[j]))
                count++;
        if (count > best_count) {
            best = i;
            best_count = count;
        }
    }
    return values[best];
}

static char *
s_math (const toa_sim_model_config_t *model, const toa_sim_question_t *question,
        const toa_sim_prompt_t *prompt, size_t offset, uint64_t *rng)
{
    double earlier[S_MAX_EARLIER];
    size_t n_earlier = toa_sim_answer_marked (prompt->user, offset, earlier, S_MAX_EARLIER);
    size_t after = offset + question->length;
    if (n_earlier < S_MAX_EARLIER)
        n_earlier += toa_sim_answer_marked (prompt->user + after, prompt->user_length - after,
                                            earlier + n_earlier, S_MAX_EARLIER - n_earlier);
    if (n_earlier > S_MAX_EARLIER)
        n_earlier = S_MAX_EARLIER;
    s_text_t text = {0};
    char number[48];
    double answer;
    if (n_earlier == 0) {
        bool right = toa_random_uniform (rng) < toa_sim_content_math_skill (model, question);
        answer = right ? question->gold : s_wrong_answer (question->gold, rng);
        static const char *const openers[] = {
            "Let's solve this step by step.\n",
            "We work through the problem carefully.\n",
            "First, let's note what we know.\n",
            "Let's break the problem into parts.\n",
        };
        s_puts (&text, openers[s_pick (rng, 4)]);
    }
    else {
        double base = s_majority (earlier, n_earlier);
        bool base_right = toa_sim_answer_equal (base, question->gold);
        if (base_right)
            answer = toa_random_uniform (rng) < model->spoil_prob
                     ? s_wrong_answer (question->gold, rng) : base;
        else
            answer = toa_random_uniform (rng) < model->fix_prob ? question->gold : base;
        s_appendf (&text, "Let me check the earlier answer of %s.\n",
                   toa_sim_answer_format (base, number, sizeof number));
        if (toa_sim_answer_equal (answer, base))
            s_puts (&text, "Working through it again confirms the reasoning.\n");
        else
            s_puts (&text, "I found a mistake in that reasoning, so let me redo it.\n");
    }
    s_math_steps (&text, question, answer, rng);
    return s_finish (&text);
}

typedef struct {
    uint64_t *slots;
    size_t mask;
} s_word_set_t;

/* The words of the given pieces of text, as a set; empty set (no slots) on
 * out of memory, which only weakens the bias toward an earlier attempt. */
static s_word_set_t
s_word_set (const char *a, size_t a_length, const char *b, size_t b_length)
{
    s_word_set_t set = {NULL, 0};
    size_t capacity = 64;
    while (capacity < (a_length + b_length) / 2)
        capacity *= 2;
    set.slots = calloc (capacity, sizeof *set.slots);
    if (!set.slots)
        return set;
    set.mask = capacity - 1;
    const char *pieces[2] = {a, b};
    size_t lengths[2] = {a_length, b_length};
    for (int p = 0; p < 2; p++) {
        const char *text = pieces[p];
        for (size_t at = 0; at < lengths[p];) {
            while (at < lengths[p] && isspace ((unsigned char) text[at]))
                at++;
            size_t start = at;
            while (at < lengths[p] && !isspace ((unsigned char) text[at]))
                at++;
            uint64_t hash = toa_sim_reward_word_hash (text + start, at - start);
            if (hash == 0)
                continue;
            size_t slot = hash & set.mask;
            while (set.slots[slot] != 0 && set.slots[slot] != hash)
                slot = (slot + 1) & set.mask;
            set.slots[slot] = hash;
        }
    }
    return set;
}

static bool
s_word_set_has (const s_word_set_t *set, uint64_t hash)
{
    if (!set->slots || hash == 0)
        return false;
    for (size_t slot = hash & set->mask; set->slots[slot] != 0; slot = (slot + 1) & set->mask)
        if (set->slots[slot] == hash)
            return true;
    return false;
}

/* Number of whitespace-separated words of TEXT. */
static size_t
s_count_words (const char *text)
{
    size_t count = 0;
    for (const char *at = text; *at;) {
        while (*at && isspace ((unsigned char) *at))
            at++;
        if (!*at)
            break;
        count++;
        while (*at && !isspace ((unsigned char) *at))
            at++;
    }
    return count;
}

/* The INDEX-th word of TEXT (start and length), or false. */
static bool
s_nth_word (const char *text, size_t index, const char **word, size_t *length)
{
    size_t count = 0;
    for (const char *at = text; *at;) {
        while (*at && isspace ((unsigned char) *at))
            at++;
        if (!*at)
            break;
        const char *start = at;
        while (*at && !isspace ((unsigned char) *at))
            at++;
        if (count++ == index) {
            *word = start;
            *length = (size_t) (at - start);
            return true;
        }
    }
    return false;
}

static bool
s_is_ascii_letter (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Appends WORD with two neighbouring inner letters swapped (or one of a
 * doubled pair dropped). Returns false if the word has no such pair. */
static bool
s_misspell (s_text_t *text, const char *word, size_t length, uint64_t *rng)
{
    size_t candidates = 0;
    for (size_t i = 1; i + 1 < length; i++)
        if (s_is_ascii_letter (word[i]) && s_is_ascii_letter (word[i + 1]))
            candidates++;
    if (candidates == 0)
        return false;
    size_t chosen = s_pick (rng, candidates), seen = 0, at = 0;
    for (size_t i = 1; i + 1 < length; i++)
        if (s_is_ascii_letter (word[i]) && s_is_ascii_letter (word[i + 1]) && seen++ == chosen) {
            at = i;
            break;
        }
    s_append (text, word, at);
    if (word[at] == word[at + 1])
        s_append (text, word + at + 1, length - at - 1);
    else {
        char pair[2] = {word[at + 1], word[at]};
        s_append (text, pair, 2);
        s_append (text, word + at + 2, length - at - 2);
    }
    return true;
}

/* Appends a corrupted version of WORD (or nothing: dropped). */
static void
s_corrupt_word (s_text_t *text, const char *word, size_t length,
                const toa_sim_question_t *question, uint64_t *rng, bool *wrote)
{
    double kind = toa_random_uniform (rng);
    if (kind < 0.25)
        return;
    if (*wrote)
        s_puts (text, " ");
    if (kind >= 0.5 && s_misspell (text, word, length, rng)) {
        *wrote = true;
        return;
    }
    /* replaced: a source word left untranslated, or a common word */
    size_t n_source = question->source ? s_count_words (question->source) : 0;
    const char *other;
    size_t other_length;
    if (n_source > 0 && toa_random_uniform (rng) < 0.5
        && s_nth_word (question->source, s_pick (rng, n_source), &other, &other_length))
        s_append (text, other, other_length);
    else
        s_puts (text, s_vocabulary[s_pick (rng, S_VOCABULARY_SIZE)]);
    *wrote = true;
}

static char *
s_translation (const toa_sim_model_config_t *model, const toa_sim_question_t *question,
               const toa_sim_prompt_t *prompt, size_t offset, uint64_t *rng)
{
    size_t after = offset + question->length;
    const char *rest = prompt->user + after;
    size_t rest_length = prompt->user_length - after;
    s_word_set_t earlier = {NULL, 0};
    size_t earlier_words = 0;
    if (offset + rest_length > 0) {
        earlier = s_word_set (prompt->user, offset, rest, rest_length);
        for (size_t slot = 0; earlier.slots && slot <= earlier.mask; slot++)
            earlier_words += earlier.slots[slot] != 0;
    }
    bool refining = earlier_words >= 3;
    double noise = model->translation_noise;
    if (refining)
        noise *= 1.0 - model->refine_gain;
    s_text_t text = {0};
    bool wrote = false;
    const char *reference = question->reference;
    for (size_t at = 0; reference[at];) {
        while (reference[at] && isspace ((unsigned char) reference[at]))
            at++;
        if (!reference[at])
            break;
        size_t start = at;
        while (reference[at] && !isspace ((unsigned char) reference[at]))
            at++;
        const char *word = reference + start;
        size_t length = at - start;
        double p = noise;
        if (refining) {
            bool had = s_word_set_has (&earlier, toa_sim_reward_word_hash (word, length));
            p = had ? noise * 0.5 : noise * 1.5;
        }
        if (toa_random_uniform (rng) < p)
            s_corrupt_word (&text, word, length, question, rng, &wrote);
        else {
            if (wrote)
                s_puts (&text, " ");
            s_append (&text, word, length);
            wrote = true;
        }
    }
    free (earlier.slots);
    return s_finish (&text);
}

static char *
s_filler (const toa_sim_prompt_t *prompt, uint64_t *rng)
{
    (void) prompt;
    static const char *const openers[] = {
        "Here is a clear answer to your request.",
        "Good question, and there are a few things to consider.",
        "Let me explain this step by step.",
        "Sure, here is a short overview.",
    };
    s_text_t text = {0};
    s_puts (&text, openers[s_pick (rng, 4)]);
    size_t sentences = 2 + s_pick (rng, 6);
    for (size_t s = 0; s < sentences; s++) {
        size_t words = 6 + s_pick (rng, 12);
        for (size_t w = 0; w < words; w++) {
            const char *word = s_vocabulary[s_pick (rng, S_VOCABULARY_SIZE)];
            s_puts (&text, " ");
            if (w == 0) {
                char first = (char) toupper ((unsigned char) word[0]);
                s_append (&text, &first, 1);
                s_puts (&text, word + 1);
            }
            else
                s_puts (&text, word);
        }
        s_puts (&text, ".");
    }
    return s_finish (&text);
}

/* Where NEEDLE (lower case) occurs in TEXT, ignoring ASCII case, or NULL. */
static const char *
s_find_nocase (const char *text, size_t length, const char *needle)
{
    size_t needle_length = strlen (needle);
    if (!text || needle_length == 0 || needle_length > length)
        return NULL;
    for (size_t at = 0; at + needle_length <= length; at++) {
        if (tolower ((unsigned char) text[at]) != needle[0])
            continue;
        size_t i = 1;
        while (i < needle_length && tolower ((unsigned char) text[at + i]) == needle[i])
            i++;
        if (i == needle_length)
            return text + at;
    }
    return NULL;
}

static bool
s_is_judge (const toa_sim_prompt_t *prompt)
{
    static const char *const markers[] = {"scale of 1 to", "[[rating]]", "rate the response"};
    for (size_t i = 0; i < 3; i++)
        if (s_find_nocase (prompt->user, prompt->user_length, markers[i])
            || s_find_nocase (prompt->system, prompt->system_length, markers[i]))
            return true;
    return false;
}

/* The top of the judge's scale: N of "scale of 1 to N" (2..100), else 10. */
static long
s_judge_scale (const toa_sim_prompt_t *prompt)
{
    const char *texts[2] = {prompt->user, prompt->system};
    size_t lengths[2] = {prompt->user_length, prompt->system_length};
    for (int i = 0; i < 2; i++) {
        const char *at = s_find_nocase (texts[i], lengths[i], "scale of 1 to");
        if (!at)
            continue;
        at += strlen ("scale of 1 to");
        while (*at == ' ')
            at++;
        long top = strtol (at, NULL, 10);
        if (top >= 2 && top <= 100)
            return top;
    }
    return 10;
}

static char *
s_judge (const toa_sim_knowledge_t *knowledge, const toa_sim_prompt_t *prompt, uint64_t *rng)
{
    double score = toa_sim_reward_score (knowledge, prompt->user, prompt->user_length,
                                         NULL, NULL);
    long top = s_judge_scale (prompt);
    long rating = 1 + lround ((score + 1.0) / 2.0 * (double) (top - 1));
    double wobble = toa_random_uniform (rng);
    rating += wobble < 0.15 ? -1 : wobble > 0.85 ? 1 : 0;
    rating = rating < 1 ? 1 : rating > top ? top : rating;
    double share = (double) (rating - 1) / (double) (top - 1);
    s_text_t text = {0};
    s_appendf (&text, "The response %s.\nRating: [[%ld]]",
               share >= 0.65 ? "is accurate and helpful"
               : share >= 0.35 ? "is partly helpful but has gaps" : "has serious problems",
               rating);
    return s_finish (&text);
}

char *
toa_sim_content_generate (const toa_sim_model_config_t *model,
                          const toa_sim_knowledge_t *knowledge,
                          const toa_sim_prompt_t *prompt, uint64_t seed)
{
    uint64_t rng = toa_splitmix64 (seed);
    if (s_is_judge (prompt))
        return s_judge (knowledge, prompt, &rng);
    size_t offset = 0;
    const toa_sim_question_t *question =
        toa_sim_knowledge_find (knowledge, prompt->user, prompt->user_length, &offset);
    if (question && question->kind == TOA_SIM_QUESTION_MATH)
        return s_math (model, question, prompt, offset, &rng);
    if (question && question->kind == TOA_SIM_QUESTION_TRANSLATION)
        return s_translation (model, question, prompt, offset, &rng);
    return s_filler (prompt, &rng);
}
