/* knowledge.c - known questions and fast containment lookup (see knowledge.h). */
#include "sim/knowledge.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sim/answer.h"

/* Bytes of a question's start that the rolling hash covers; shorter
 * questions are searched one by one. */
#define S_PREFIX 32
#define S_ROLL_BASE 0x100000001b3ULL
#define S_FILTER_BITS 16

struct toa_sim_knowledge_s {
    toa_sim_question_t *questions;
    size_t count;
    size_t capacity;
    uint32_t *exact;         /* open addressing by text hash: index + 1, 0 empty */
    size_t exact_capacity;   /* power of two */
    uint64_t *prefix_keys;   /* open addressing by rolling hash of the prefix */
    uint32_t *prefix_heads;  /* first question with that prefix: index + 1 */
    size_t prefix_capacity;  /* power of two */
    size_t prefix_used;
    uint32_t *prefix_next;   /* per question: next with the same prefix, index + 1 */
    uint64_t filter[(1u << S_FILTER_BITS) / 64];   /* prefix hashes present */
    uint32_t *shorts;        /* questions shorter than S_PREFIX */
    size_t n_shorts;
};

uint64_t
toa_sim_hash (const void *data, size_t length, uint64_t seed)
{
    const unsigned char *bytes = data;
    uint64_t hash = 0xcbf29ce484222325ULL ^ seed;
    for (size_t i = 0; i < length; i++) {
        hash ^= bytes[i];
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

static uint64_t
s_roll_init (const unsigned char *bytes)
{
    uint64_t hash = 0;
    for (size_t i = 0; i < S_PREFIX; i++)
        hash = hash * S_ROLL_BASE + bytes[i];
    return hash;
}

static uint64_t
s_roll_top_power (void)
{
    uint64_t power = 1;
    for (size_t i = 0; i + 1 < S_PREFIX; i++)
        power *= S_ROLL_BASE;
    return power;
}

static size_t
s_filter_bit (uint64_t hash)
{
    return (size_t) (toa_splitmix64 (hash) >> (64 - S_FILTER_BITS));
}

static bool
s_is_space (char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
s_trim (const char **text, size_t *length)
{
    while (*length > 0 && s_is_space (**text)) {
        (*text)++;
        (*length)--;
    }
    while (*length > 0 && s_is_space ((*text)[*length - 1]))
        (*length)--;
}

toa_sim_knowledge_t *
toa_sim_knowledge_new (void)
{
    return calloc (1, sizeof (toa_sim_knowledge_t));
}

void
toa_sim_knowledge_destroy (toa_sim_knowledge_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_sim_knowledge_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free (self->questions[i].text);
        free (self->questions[i].reference);
        free (self->questions[i].source);
    }
    free (self->questions);
    free (self->exact);
    free (self->prefix_keys);
    free (self->prefix_heads);
    free (self->prefix_next);
    free (self->shorts);
    free (self);
    *self_p = NULL;
}

static long
s_exact_lookup (const toa_sim_knowledge_t *self, const char *text, size_t length, uint64_t hash)
{
    if (self->exact_capacity == 0)
        return -1;
    size_t mask = self->exact_capacity - 1;
    for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
        uint32_t entry = self->exact[slot];
        if (entry == 0)
            return -1;
        const toa_sim_question_t *q = &self->questions[entry - 1];
        if (q->hash == hash && q->length == length && memcmp (q->text, text, length) == 0)
            return (long) entry - 1;
    }
}

static void
s_exact_insert (uint32_t *table, size_t capacity, uint64_t hash, uint32_t index)
{
    size_t mask = capacity - 1;
    size_t slot = hash & mask;
    while (table[slot] != 0)
        slot = (slot + 1) & mask;
    table[slot] = index + 1;
}

static int
s_exact_grow (toa_sim_knowledge_t *self)
{
    size_t capacity = self->exact_capacity ? self->exact_capacity * 2 : 64;
    uint32_t *table = calloc (capacity, sizeof *table);
    if (!table)
        return -1;
    for (size_t i = 0; i < self->count; i++)
        s_exact_insert (table, capacity, self->questions[i].hash, (uint32_t) i);
    free (self->exact);
    self->exact = table;
    self->exact_capacity = capacity;
    return 0;
}

/* Slot of KEY in the prefix table: where it is, or the empty slot for it. */
static size_t
s_prefix_slot (const uint64_t *keys, const uint32_t *heads, size_t capacity, uint64_t key)
{
    size_t mask = capacity - 1;
    size_t slot = toa_splitmix64 (key) & mask;
    while (heads[slot] != 0 && keys[slot] != key)
        slot = (slot + 1) & mask;
    return slot;
}

static int
s_prefix_grow (toa_sim_knowledge_t *self)
{
    size_t capacity = self->prefix_capacity ? self->prefix_capacity * 2 : 64;
    uint64_t *keys = calloc (capacity, sizeof *keys);
    uint32_t *heads = calloc (capacity, sizeof *heads);
    if (!keys || !heads) {
        free (keys);
        free (heads);
        return -1;
    }
    for (size_t slot = 0; slot < self->prefix_capacity; slot++) {
        if (self->prefix_heads[slot] == 0)
            continue;
        size_t to = s_prefix_slot (keys, heads, capacity, self->prefix_keys[slot]);
        keys[to] = self->prefix_keys[slot];
        heads[to] = self->prefix_heads[slot];
    }
    free (self->prefix_keys);
    free (self->prefix_heads);
    self->prefix_keys = keys;
    self->prefix_heads = heads;
    self->prefix_capacity = capacity;
    return 0;
}

/* Indexes question INDEX (already stored) for exact and containment lookup. */
static int
s_index (toa_sim_knowledge_t *self, uint32_t index)
{
    toa_sim_question_t *q = &self->questions[index];
    if ((self->count + 1) * 2 > self->exact_capacity && s_exact_grow (self) != 0)
        return -1;
    if (q->length < S_PREFIX) {
        uint32_t *shorts = realloc (self->shorts, (self->n_shorts + 1) * sizeof *shorts);
        if (!shorts)
            return -1;
        self->shorts = shorts;
        self->shorts[self->n_shorts++] = index;
    }
    else {
        if ((self->prefix_used + 1) * 2 > self->prefix_capacity && s_prefix_grow (self) != 0)
            return -1;
        uint64_t key = s_roll_init ((const unsigned char *) q->text);
        size_t slot = s_prefix_slot (self->prefix_keys, self->prefix_heads,
                                     self->prefix_capacity, key);
        if (self->prefix_heads[slot] == 0)
            self->prefix_used++;
        self->prefix_next[index] = self->prefix_heads[slot];
        self->prefix_keys[slot] = key;
        self->prefix_heads[slot] = index + 1;
        size_t bit = s_filter_bit (key);
        self->filter[bit / 64] |= 1ULL << (bit % 64);
    }
    s_exact_insert (self->exact, self->exact_capacity, q->hash, index);
    return 0;
}

static void
s_extract_numbers (toa_sim_question_t *q)
{
    const char *text = q->text;
    for (size_t at = 0; at < q->length && q->n_numbers < TOA_SIM_QUESTION_NUMBERS;) {
        bool starts = text[at] >= '0' && text[at] <= '9'
                      && (at == 0 || !((text[at - 1] >= '0' && text[at - 1] <= '9')
                                       || (text[at - 1] >= 'a' && text[at - 1] <= 'z')
                                       || (text[at - 1] >= 'A' && text[at - 1] <= 'Z')));
        if (!starts) {
            at++;
            continue;
        }
        double value;
        size_t used = toa_sim_answer_parse (text + at, q->length - at, &value);
        if (used == 0) {
            at++;
            continue;
        }
        q->numbers[q->n_numbers++] = value;
        at += used;
    }
}

int
toa_sim_knowledge_add (toa_sim_knowledge_t *self, const char *question,
                       const char *gold_answer, const char *reference, const char *source)
{
    if (!self || !question || (!gold_answer && !reference))
        return -1;
    size_t length = strlen (question);
    s_trim (&question, &length);
    if (length == 0 || length > UINT32_MAX)
        return -1;
    double gold = 0;
    if (gold_answer && toa_sim_answer_parse_all (gold_answer, &gold) != 0)
        return -1;
    uint64_t hash = toa_sim_hash (question, length, 0);
    if (s_exact_lookup (self, question, length, hash) >= 0)
        return 1;
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 64;
        toa_sim_question_t *questions = realloc (self->questions, capacity * sizeof *questions);
        if (!questions)
            return -1;
        self->questions = questions;
        uint32_t *next = realloc (self->prefix_next, capacity * sizeof *next);
        if (!next)
            return -1;
        self->prefix_next = next;
        self->capacity = capacity;
    }
    toa_sim_question_t *q = &self->questions[self->count];
    memset (q, 0, sizeof *q);
    q->text = malloc (length + 1);
    if (!q->text)
        return -1;
    memcpy (q->text, question, length);
    q->text[length] = '\0';
    q->length = length;
    q->hash = hash;
    if (gold_answer) {
        q->kind = TOA_SIM_QUESTION_MATH;
        q->gold = gold;
        s_extract_numbers (q);
    }
    else {
        q->kind = TOA_SIM_QUESTION_TRANSLATION;
        q->reference = strdup (reference);
        q->source = toa_strdup (source);
        if (!q->reference || (source && !q->source)) {
            free (q->text);
            free (q->reference);
            free (q->source);
            return -1;
        }
    }
    if (s_index (self, (uint32_t) self->count) != 0) {
        free (q->text);
        free (q->reference);
        free (q->source);
        return -1;
    }
    self->count++;
    return 0;
}

/* The question text of a data line: instruction, or the last user message. */
static const char *
s_line_question (json_t *line)
{
    const char *instruction = json_string_value (json_object_get (line, "instruction"));
    if (instruction)
        return instruction;
    json_t *messages = json_object_get (line, "messages");
    const char *last = NULL;
    size_t i;
    json_t *message;
    json_array_foreach (messages, i, message) {
        const char *role = json_string_value (json_object_get (message, "role"));
        const char *content = json_string_value (json_object_get (message, "content"));
        if (role && content && strcmp (role, "user") == 0)
            last = content;
    }
    return last;
}

/* Adds one parsed data line. Returns 1 added, 0 skipped or duplicate, -1 bad. */
static int
s_load_line (toa_sim_knowledge_t *self, json_t *line, const char *path, size_t line_no,
             toa_errors_t *errors)
{
    if (!json_is_object (line)) {
        toa_errors_add (errors, "%s:%zu: not a JSON object", path, line_no);
        return -1;
    }
    json_t *gold = json_object_get (line, "gold_answer");
    const char *reference = json_string_value (json_object_get (line, "en"));
    if (!gold && !reference)
        return 0;
    const char *question = s_line_question (line);
    if (!question) {
        toa_errors_add (errors, "%s:%zu: no instruction or user message", path, line_no);
        return -1;
    }
    char gold_text[64];
    const char *gold_answer = NULL;
    if (json_is_string (gold))
        gold_answer = json_string_value (gold);
    else if (json_is_number (gold))
        gold_answer = toa_sim_answer_format (json_number_value (gold), gold_text, sizeof gold_text);
    else if (gold) {
        toa_errors_add (errors, "%s:%zu: gold_answer: not a string or number", path, line_no);
        return -1;
    }
    double ignored;
    if (gold_answer && toa_sim_answer_parse_all (gold_answer, &ignored) != 0) {
        toa_errors_add (errors, "%s:%zu: gold_answer: not a number: \"%.40s\"", path, line_no,
                        gold_answer);
        return -1;
    }
    const char *source = json_string_value (json_object_get (line, "de"));
    int rc = toa_sim_knowledge_add (self, question, gold_answer, gold_answer ? NULL : reference,
                                    source);
    if (rc < 0) {
        toa_errors_add (errors, "%s:%zu: empty question or out of memory", path, line_no);
        return -1;
    }
    return rc == 0 ? 1 : 0;
}

long
toa_sim_knowledge_load (toa_sim_knowledge_t *self, const char *path, toa_errors_t *errors)
{
    size_t length = 0;
    char *text = toa_read_file (path, &length);
    if (!text) {
        toa_errors_add (errors, "%s: cannot read: %s", path, strerror (errno));
        return -1;
    }
    long added = 0;
    bool bad = false;
    size_t line_no = 0;
    for (char *line = text; line < text + length;) {
        char *end = memchr (line, '\n', (size_t) (text + length - line));
        if (!end)
            end = text + length;
        line_no++;
        const char *start = line;
        size_t line_length = (size_t) (end - line);
        s_trim (&start, &line_length);
        if (line_length > 0) {
            json_error_t error;
            json_t *json = json_loadb (start, line_length, 0, &error);
            if (!json) {
                toa_errors_add (errors, "%s:%zu: invalid JSON: %s", path, line_no, error.text);
                bad = true;
            }
            else {
                int rc = s_load_line (self, json, path, line_no, errors);
                if (rc < 0)
                    bad = true;
                else
                    added += rc;
                json_decref (json);
            }
        }
        line = end + 1;
    }
    free (text);
    return bad ? -1 : added;
}

size_t
toa_sim_knowledge_count (const toa_sim_knowledge_t *self)
{
    return self ? self->count : 0;
}

const toa_sim_question_t *
toa_sim_knowledge_get (const toa_sim_knowledge_t *self, size_t i)
{
    return self && i < self->count ? &self->questions[i] : NULL;
}

static const char *
s_find_bytes (const char *haystack, size_t length, const char *needle, size_t needle_length)
{
    if (needle_length == 0 || needle_length > length)
        return NULL;
    const char *end = haystack + length - needle_length + 1;
    for (const char *at = haystack; at < end;) {
        at = memchr (at, needle[0], (size_t) (end - at));
        if (!at)
            return NULL;
        if (memcmp (at, needle, needle_length) == 0)
            return at;
        at++;
    }
    return NULL;
}

const toa_sim_question_t *
toa_sim_knowledge_find (const toa_sim_knowledge_t *self, const char *text, size_t length,
                        size_t *offset)
{
    if (!self || !text || self->count == 0)
        return NULL;
    const char *trimmed = text;
    size_t trimmed_length = length;
    s_trim (&trimmed, &trimmed_length);
    long exact = s_exact_lookup (self, trimmed, trimmed_length,
                                 toa_sim_hash (trimmed, trimmed_length, 0));
    if (exact >= 0) {
        if (offset)
            *offset = (size_t) (trimmed - text);
        return &self->questions[exact];
    }
    const toa_sim_question_t *best = NULL;
    size_t best_offset = 0;
    const unsigned char *bytes = (const unsigned char *) text;
    if (self->prefix_used > 0 && length >= S_PREFIX) {
        uint64_t top = s_roll_top_power ();
        uint64_t hash = s_roll_init (bytes);
        for (size_t at = 0;; at++) {
            size_t bit = s_filter_bit (hash);
            if (self->filter[bit / 64] & (1ULL << (bit % 64))) {
                size_t slot = s_prefix_slot (self->prefix_keys, self->prefix_heads,
                                             self->prefix_capacity, hash);
                for (uint32_t entry = self->prefix_heads[slot]; entry != 0;
                     entry = self->prefix_next[entry - 1]) {
                    const toa_sim_question_t *q = &self->questions[entry - 1];
                    if (q->length <= length - at && (!best || q->length > best->length)
                        && memcmp (text + at, q->text, q->length) == 0) {
                        best = q;
                        best_offset = at;
                    }
                }
            }
            if (at + S_PREFIX >= length)
                break;
            hash = (hash - bytes[at] * top) * S_ROLL_BASE + bytes[at + S_PREFIX];
        }
    }
    for (size_t i = 0; i < self->n_shorts; i++) {
        const toa_sim_question_t *q = &self->questions[self->shorts[i]];
        if (best && q->length <= best->length)
            continue;
        const char *found = s_find_bytes (text, length, q->text, q->length);
        if (found) {
            best = q;
            best_offset = (size_t) (found - text);
        }
    }
    if (best && offset)
        *offset = best_offset;
    return best;
}
