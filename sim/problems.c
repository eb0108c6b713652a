/* problems.c - generated math word problems with gold answers (see problems.h). */
#include "sim/problems.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sim/knowledge.h"

/* A problem shape: r1 = a OP1 b, answer = r1 OP2 c. With OP1 '/' the
 * question shows a x b as its first number, so the division is exact; with
 * OP2 '-' c stays below r1, so every answer is a positive integer. */
typedef struct {
    const char *question;   /* {name} {Pronoun} {pronoun} {a} {b} {c} */
    const char *response;   /* {a} {b} {c} {r1} {answer}, GSM8K style */
    char op1, op2;
    long a_min, a_max, b_min, b_max, c_min, c_max;
} s_template_t;

static const s_template_t s_templates[] = {
    {"{name} has {a} boxes of pencils with {b} pencils in each box. {Pronoun} gives {c} "
     "pencils to classmates. How many pencils does {pronoun} have now?",
     "How many pencils are in the boxes? ** {a} boxes * {b} pencils = <<{a}*{b}={r1}>>{r1} "
     "pencils\nHow many are left? ** {r1} pencils - {c} pencils = <<{r1}-{c}={answer}>>{answer} "
     "pencils\n#### {answer}", '*', '-', 3, 12, 6, 24, 5, 40},
    {"{name} bakes {a} muffins in the morning and {b} muffins in the afternoon. {Pronoun} "
     "sells {c} of them. How many muffins are left?",
     "How many muffins were baked? ** {a} + {b} = <<{a}+{b}={r1}>>{r1} muffins\nHow many are "
     "left? ** {r1} - {c} = <<{r1}-{c}={answer}>>{answer} muffins\n#### {answer}",
     '+', '-', 12, 60, 10, 50, 5, 45},
    {"{name} reads {b} pages every day for {a} days and then {c} more pages on Sunday. How "
     "many pages has {pronoun} read in all?",
     "How many pages in the first days? ** {a} days * {b} pages = <<{a}*{b}={r1}>>{r1} "
     "pages\nHow many in all? ** {r1} + {c} = <<{r1}+{c}={answer}>>{answer} pages\n"
     "#### {answer}", '*', '+', 3, 14, 8, 35, 4, 60},
    {"{name} saves {b} dollars every week for {a} weeks and then spends {c} dollars on a "
     "bike. How many dollars does {pronoun} have left?",
     "How much was saved? ** {a} weeks * ${b} = $<<{a}*{b}={r1}>>{r1}\nHow much is left? ** "
     "${r1} - ${c} = $<<{r1}-{c}={answer}>>{answer}\n#### {answer}",
     '*', '-', 4, 20, 5, 30, 10, 90},
    {"{name} has {a} stickers and shares them equally among {b} friends. Each friend then "
     "gets {c} more stickers from a teacher. How many stickers does each friend have?",
     "How many stickers does each friend get first? ** {a} / {b} = <<{a}/{b}={r1}>>{r1} "
     "stickers\nHow many in the end? ** {r1} + {c} = <<{r1}+{c}={answer}>>{answer} stickers\n"
     "#### {answer}", '/', '+', 3, 25, 2, 9, 2, 15},
    {"{name} buys {a} packs of cards with {b} cards in each pack and already owns {c} cards. "
     "How many cards does {pronoun} own now?",
     "How many cards are in the packs? ** {a} packs * {b} cards = <<{a}*{b}={r1}>>{r1} cards\n"
     "How many in all? ** {r1} + {c} = <<{r1}+{c}={answer}>>{answer} cards\n#### {answer}",
     '*', '+', 2, 15, 5, 20, 3, 80},
    {"{name} runs {a} laps of a {b}-meter track and then walks {c} meters home. How many "
     "meters does {pronoun} cover?",
     "How far are the laps? ** {a} laps * {b} meters = <<{a}*{b}={r1}>>{r1} meters\nHow far "
     "in all? ** {r1} + {c} = <<{r1}+{c}={answer}>>{answer} meters\n#### {answer}",
     '*', '+', 2, 12, 200, 400, 100, 900},
    {"{name} collects {a} shells on Saturday and {b} shells on Sunday, then gives {c} shells "
     "to a friend. How many shells does {pronoun} keep?",
     "How many shells were collected? ** {a} + {b} = <<{a}+{b}={r1}>>{r1} shells\nHow many "
     "are kept? ** {r1} - {c} = <<{r1}-{c}={answer}>>{answer} shells\n#### {answer}",
     '+', '-', 8, 70, 8, 70, 3, 50},
};

static const char *const s_names[][2] = {
    {"Ava", "she"}, {"Liam", "he"}, {"Maya", "she"}, {"Noah", "he"}, {"Zoe", "she"},
    {"Omar", "he"}, {"Iris", "she"}, {"Theo", "he"}, {"Lena", "she"}, {"Ravi", "he"},
    {"Nora", "she"}, {"Hugo", "he"},
};

#define S_N_TEMPLATES (sizeof s_templates / sizeof s_templates[0])
#define S_N_NAMES (sizeof s_names / sizeof s_names[0])
/* Draws a problem this many times at most before giving up on a new one. */
#define S_MAX_DRAWS 64

typedef struct {
    char *question;
    char *response;
    long answer;
} s_problem_t;

static long
s_draw (uint64_t *state, long min, long max)
{
    return min + (long) (toa_random_uniform (state) * (double) (max - min + 1));
}

/* Fills *PROBLEM from template T and the random STATE. Returns 0 or -1
 * (out of memory). */
static int
s_make (const s_template_t *t, uint64_t *state, s_problem_t *problem)
{
    const char *const *person = s_names[s_draw (state, 0, S_N_NAMES - 1)];
    long a = s_draw (state, t->a_min, t->a_max);
    long b = s_draw (state, t->b_min, t->b_max);
    long r1 = t->op1 == '*' ? a * b : t->op1 == '+' ? a + b : a;
    if (t->op1 == '/')
        a = r1 * b;
    long c_max = t->op2 == '-' && t->c_max >= r1 ? r1 - 1 : t->c_max;
    long c = s_draw (state, t->c_min < c_max ? t->c_min : 1, c_max);
    problem->answer = t->op2 == '-' ? r1 - c : r1 + c;
    char numbers[5][24], pronoun_cap[8];
    long values[5] = {a, b, c, r1, problem->answer};
    for (int i = 0; i < 5; i++)
        snprintf (numbers[i], sizeof numbers[i], "%ld", values[i]);
    snprintf (pronoun_cap, sizeof pronoun_cap, "%c%s", person[1][0] - 'a' + 'A', person[1] + 1);
    const char *names[] = {"name", "Pronoun", "pronoun", "a", "b", "c", "r1", "answer"};
    const char *fills[] = {person[0], pronoun_cap, person[1], numbers[0], numbers[1],
                           numbers[2], numbers[3], numbers[4]};
    problem->question = toa_template_render (t->question, names, fills, 8);
    problem->response = toa_template_render (t->response, names, fills, 8);
    return problem->question && problem->response ? 0 : -1;
}

static void
s_problem_clear (s_problem_t *problem)
{
    free (problem->question);
    free (problem->response);
    memset (problem, 0, sizeof *problem);
}

/* Writes problem ID as one JSON line. Returns 0 or -1. */
static int
s_write_line (FILE *out, size_t id, const s_problem_t *problem)
{
    char gold[24];
    snprintf (gold, sizeof gold, "%ld", problem->answer);
    json_t *line = json_pack ("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t) id,
                              "instruction", problem->question, "gold_answer", gold,
                              "gold_response", problem->response, "tag", "toa-generated");
    if (!line)
        return -1;
    int rc = json_dumpf (line, out, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref (line);
    return rc == 0 && fputc ('\n', out) != EOF ? 0 : -1;
}

/* Draws a problem not yet in SEEN (which gets it) into *PROBLEM. Returns 0,
 * or -1 with REASON filled. */
static int
s_next (toa_sim_knowledge_t *seen, uint64_t *state, s_problem_t *problem, char *reason,
        size_t size)
{
    for (int draw = 0; draw < S_MAX_DRAWS; draw++) {
        const s_template_t *t = &s_templates[s_draw (state, 0, S_N_TEMPLATES - 1)];
        char gold[24];
        if (s_make (t, state, problem) != 0) {
            s_problem_clear (problem);
            toa_format_reason (reason, size, "out of memory");
            return -1;
        }
        snprintf (gold, sizeof gold, "%ld", problem->answer);
        int added = toa_sim_knowledge_add (seen, problem->question, gold, NULL, NULL);
        if (added == 0)
            return 0;
        s_problem_clear (problem);
        if (added < 0) {
            toa_format_reason (reason, size, "out of memory");
            return -1;
        }
    }
    toa_format_reason (reason, size, "no new problem in %d draws", S_MAX_DRAWS);
    return -1;
}

int
toa_sim_problems_write (FILE *out, size_t count, uint64_t seed, char *reason, size_t size)
{
    if (count == 0 || count > TOA_SIM_PROBLEMS_MAX) {
        toa_format_reason (reason, size, "the number of problems must be 1..%d, not %zu",
                           TOA_SIM_PROBLEMS_MAX, count);
        return -1;
    }
    toa_sim_knowledge_t *seen = toa_sim_knowledge_new ();
    if (!seen) {
        toa_format_reason (reason, size, "out of memory");
        return -1;
    }
    uint64_t state = toa_splitmix64 (seed ^ 0x70726f626c656d73ULL);
    int rc = 0;
    for (size_t id = 1; id <= count && rc == 0; id++) {
        s_problem_t problem = {0};
        rc = s_next (seen, &state, &problem, reason, size);
        if (rc == 0 && s_write_line (out, id, &problem) != 0) {
            toa_format_reason (reason, size, "cannot write: %s", strerror (errno));
            rc = -1;
        }
        s_problem_clear (&problem);
    }
    toa_sim_knowledge_destroy (&seen);
    return rc;
}
