/* knowledge.h - the questions toa-simllm knows the answers to, loaded from
 * JSONL data files, and a fast lookup of the known question contained in a
 * prompt.
 *
 * A line with "gold_answer" is a math question, a line with "en" a
 * translation; the question is the line's "instruction" (or the last user
 * message of its "messages"), trimmed. Lookup first tries the whole prompt as
 * a question (one hash), then finds known questions contained in it with a
 * Rabin-Karp scan over the first bytes of every question, so a refinement
 * prompt that embeds a question costs one pass over the prompt. */
#ifndef TOA_SIM_KNOWLEDGE_H
#define TOA_SIM_KNOWLEDGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/errors.h"

typedef enum {
    TOA_SIM_QUESTION_MATH = 0,
    TOA_SIM_QUESTION_TRANSLATION = 1
} toa_sim_question_kind_t;

#define TOA_SIM_QUESTION_NUMBERS 8

typedef struct {
    char *text;              /* the question, trimmed */
    size_t length;
    uint64_t hash;           /* hash of the text (per-question randomness) */
    toa_sim_question_kind_t kind;
    double gold;             /* math: the gold answer */
    char *reference;         /* translation: the English reference */
    char *source;            /* translation: the German source, or NULL */
    double numbers[TOA_SIM_QUESTION_NUMBERS];   /* math: numbers in the text */
    size_t n_numbers;
} toa_sim_question_t;

typedef struct toa_sim_knowledge_s toa_sim_knowledge_t;

/* An empty knowledge base, or NULL when out of memory. */
toa_sim_knowledge_t *toa_sim_knowledge_new (void);

/* Frees everything; nulls *SELF_P; safe on NULL. */
void toa_sim_knowledge_destroy (toa_sim_knowledge_t **self_p);

/* Adds a question. GOLD_ANSWER (a number as text) makes it math, else
 * REFERENCE makes it a translation (SOURCE optional). A question already
 * known is kept as it was. Returns 0, 1 if it was a duplicate, or -1 if
 * the question is empty, the gold answer is not a number, or out of memory. */
int toa_sim_knowledge_add (toa_sim_knowledge_t *self, const char *question,
                           const char *gold_answer, const char *reference,
                           const char *source);

/* Loads every usable line of the JSONL file PATH. Lines with neither
 * gold_answer nor en are skipped. Problems are appended to ERRORS as
 * "PATH:LINE: reason". Returns the number of questions added, or -1 if the
 * file could not be read or had bad lines. */
long toa_sim_knowledge_load (toa_sim_knowledge_t *self, const char *path,
                             toa_errors_t *errors);

/* Number of known questions. */
size_t toa_sim_knowledge_count (const toa_sim_knowledge_t *self);

/* The i-th question (0 <= I < count), or NULL. */
const toa_sim_question_t *toa_sim_knowledge_get (const toa_sim_knowledge_t *self, size_t i);

/* The known question that TEXT (LENGTH bytes) is, or else the longest known
 * question it contains; NULL if none. *OFFSET (if not NULL) gets where the
 * question starts in TEXT. Thread-safe once loading is done. */
const toa_sim_question_t *toa_sim_knowledge_find (const toa_sim_knowledge_t *self,
                                                  const char *text, size_t length,
                                                  size_t *offset);

/* FNV-1a 64 of LENGTH bytes (shared by the simulator's hashes). */
uint64_t toa_sim_hash (const void *data, size_t length, uint64_t seed);

#endif
