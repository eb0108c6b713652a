/* export.h - turns toa result lines into training sets: SFT (chat messages
 * ending with the best response) and DPO preference pairs, in the
 * conversational shapes TRL reads:
 *   SFT: {"messages": [...prompt messages..., {"role": "assistant", "content": best}]}
 *   DPO: {"prompt": [...prompt messages...],
 *         "chosen": [{"role": "assistant", "content": best}],
 *         "rejected": [{"role": "assistant", "content": rejected}],
 *         "chosen_rating": R1, "rejected_rating": R2,
 *         "chosen_model": M1, "rejected_model": M2}
 * The prompt messages are the result's "messages", or one user message with
 * its "instruction". Chosen is the best scored response; which one is
 * rejected follows a rule (toa_export_rejected_t), by default the paper's:
 * the K-th ranked with K/N = 30/160. The core (toa_export_result) is pure;
 * toa_export_files does the file I/O around it: each output is written to
 * a temporary file beside it and renamed into place only when complete (a
 * failed export leaves no partial file), an existing output is replaced
 * only with force (never written through a symlink: the link itself is
 * replaced). */
#ifndef TOA_CLIENT_EXPORT_H
#define TOA_CLIENT_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "common/errors.h"

/* Which scored response is rejected. Responses are ranked by raw reward,
 * best first (rank 1; equal rewards keep generation order); N is the
 * number of scored responses of the prompt. */
typedef enum {
    TOA_EXPORT_REJECT_PAPER = 0, /* rank ceil(N x 30 / 160), at least 2 (the paper's
                                  * 30th of 160 samples, scaled to N) */
    TOA_EXPORT_REJECT_WORST,     /* rank N */
    TOA_EXPORT_REJECT_RANK,      /* rank K (>= 2), or N when fewer */
    TOA_EXPORT_REJECT_QUANTILE   /* rank 1 + ceil(Q x (N - 1)), at least 2 */
} toa_export_rejected_t;

typedef struct {
    toa_export_rejected_t rejected;
    long rank;                   /* REJECT_RANK: K >= 2 */
    double quantile;             /* REJECT_QUANTILE: Q in (0, 1] */
    double min_margin;           /* a pair only when chosen - rejected > this */
    bool force;                  /* replace existing output files */
} toa_export_options_t;

/* What became of one result. */
typedef enum {
    TOA_EXPORT_PAIR = 0,        /* SFT and DPO lines */
    TOA_EXPORT_TIE,             /* SFT only: chosen - rejected <= margin, or same text */
    TOA_EXPORT_SINGLE,          /* SFT only: fewer than two scored responses */
    TOA_EXPORT_NO_RESPONSE,     /* nothing: no scored response */
    TOA_EXPORT_BAD              /* nothing: no prompt (instruction/messages) */
} toa_export_outcome_t;

typedef struct {
    size_t results;             /* result lines read */
    size_t sft;                 /* SFT lines written */
    size_t dpo;                 /* DPO lines written */
    size_t ties;                /* skipped for DPO: equal or within the margin */
    size_t single;              /* skipped for DPO: one scored response */
    size_t no_response;         /* skipped: no scored response */
    size_t bad;                 /* skipped: not a usable result (reported) */
    size_t duplicates;          /* skipped: a prompt id seen before in the file */
} toa_export_counts_t;

/* Parses RULE: "worst", "rank:K" (K >= 2), "quantile:Q" (0 < Q <= 1) or
 * "paper" into OPTIONS. Returns 0, or -1 (bad rule). */
int toa_export_parse_rejected (const char *rule, toa_export_options_t *options);

/* The 1-based rank of the rejected response among N scored ones under
 * OPTIONS (2..N; 1 when N < 2). Pure. */
size_t toa_export_rejected_rank (const toa_export_options_t *options, size_t n);

/* Exports one RESULT (a parsed result line). Failed generations (null
 * reward) are ignored. A result without "responses" and "rewards" falls
 * back to "best_response" for SFT. *SFT and *DPO (new references, or NULL)
 * receive the lines to write. */
toa_export_outcome_t toa_export_result (const json_t *result,
                                        const toa_export_options_t *options, json_t **sft,
                                        json_t **dpo);

/* Reads the results file INPUT and writes SFT_PATH and DPO_PATH (either may
 * be NULL to skip it). A prompt id seen twice is exported once. Lines that
 * are not JSON objects are reported in ERRORS as "FILE:LINE: reason" and
 * skipped. An output that exists is an error unless OPTIONS->force.
 * Returns 0 when the files were written, -1 on an I/O error or a refused
 * output (ERRORS says which file; no output is left half written). */
int toa_export_files (const char *input, const char *sft_path, const char *dpo_path,
                      const toa_export_options_t *options, toa_export_counts_t *counts,
                      toa_errors_t *errors);

#endif
