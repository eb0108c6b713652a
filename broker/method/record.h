/* record.h - one generation of a prompt as the broker records it in Redis
 * (field g:<g> of toa:prompt:{J/I}, see docs/jobs.md): what was asked (kind,
 * model, depth, inputs), what came back (text, tokens), its raw reward, and
 * when it was applied to the policy. Encoding to and decoding from that JSON,
 * and from its settle part (field s:<g>: what scoring adds later, so a
 * scored record does not write its text again). Pure: no I/O. */
#ifndef TOA_BROKER_RECORD_H
#define TOA_BROKER_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/method/policy.h"
#include "common/json.h"

typedef struct {
    toa_gen_kind_t kind;
    int model;               /* index into the job's models */
    int depth;
    int inputs[TOA_POLICY_MAX_INPUTS]; /* response indexes it was built on */
    int n_inputs;
    int layer;               /* TOA: the action's layer (0: not TOA) */
    int parent_g;            /* TOA: response the action hangs under, -1: root */
    char *text;              /* NULL when the generation failed */
    char *finish_reason;     /* NULL when unknown */
    int64_t prompt_tokens, completion_tokens;
    bool scored;             /* raw holds the reward */
    double raw;
    bool failed;             /* the generation failed permanently */
    bool score_failed;       /* scoring failed permanently: no reward */
    char *reason;            /* why it failed, or NULL */
    int applied;             /* order of its apply to the policy, -1 = not yet */
    double tau;              /* TOA, tau auto: the temperature its reward was
                                normalized with (0: not kept) */
    char *text_json;         /* TEXT as a JSON string (quoted, escaped), kept
                                so that records and the result line copy it
                                instead of escaping it again; NULL: not kept */
    size_t text_json_length;
    bool stored;             /* its whole JSON was handed out to be written
                                (g:<g>); later changes go to s:<g>. Not part
                                of the JSON */
} toa_gen_record_t;

/* Frees what RECORD owns and zeroes it (applied = -1); safe twice. */
void toa_gen_record_clear (toa_gen_record_t *record);

/* True when the record needs no more work (scored, or failed either way). */
bool toa_gen_record_settled (const toa_gen_record_t *record);

/* JSON text of RECORD (malloc'd, free()), or NULL when out of memory. Model
 * names come from MODELS. */
char *toa_gen_record_encode (const toa_gen_record_t *record, const char *const *models);

/* Decodes TEXT into RECORD (cleared first), resolving the model name among
 * MODELS (N_MODELS of them). Returns 0, or -1 with a reason in ERR. */
int toa_gen_record_decode (const char *text, const char *const *models, size_t n_models,
                           toa_gen_record_t *record, char *err, size_t err_size);

/* Keeps RECORD's text as a JSON string (text_json), for
 * toa_gen_record_write_text. Returns 0, or -1 when out of memory (nothing
 * kept; the text is then escaped where it is written). */
int toa_gen_record_keep_text_json (toa_gen_record_t *record);

/* Appends RECORD's text to W as a JSON string (null when it has none), from
 * text_json when kept. */
void toa_gen_record_write_text (toa_json_writer_t *w, const toa_gen_record_t *record);

/* JSON text of what settling RECORD set (malloc'd, free(); NULL when out of
 * memory): {applied, raw (when scored), score_failed and reason (when its
 * scoring failed), tau (when kept)}. */
char *toa_gen_record_encode_settle (const toa_gen_record_t *record);

/* Applies settle TEXT (toa_gen_record_encode_settle) to a decoded RECORD:
 * those fields replace the record's. Returns 0, or -1 with a reason in ERR
 * (RECORD is then unchanged). */
int toa_gen_record_decode_settle (const char *text, toa_gen_record_t *record, char *err,
                                  size_t err_size);

/* "answer", "refine", "aggregate". */
const char *toa_gen_kind_name (toa_gen_kind_t kind);

#endif
