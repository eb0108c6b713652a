/* export.h - turns toa result lines into training sets: SFT (chat messages
 * ending with the best response) and DPO preference pairs (best vs worst
 * scored response), in the conversational shapes TRL reads:
 *   SFT: {"messages": [...prompt messages..., {"role": "assistant", "content": best}]}
 *   DPO: {"prompt": [...prompt messages...],
 *         "chosen": [{"role": "assistant", "content": best}],
 *         "rejected": [{"role": "assistant", "content": worst}]}
 * The prompt messages are the result's "messages", or one user message with
 * its "instruction". The core (toa_export_result) is pure; toa_export_files
 * does the file I/O around it. */
#ifndef TOA_CLIENT_EXPORT_H
#define TOA_CLIENT_EXPORT_H

#include <stddef.h>
#include <jansson.h>

#include "common/errors.h"

/* What became of one result. */
typedef enum {
    TOA_EXPORT_PAIR = 0,        /* SFT and DPO lines */
    TOA_EXPORT_TIE,             /* SFT only: best - worst <= margin, or same text */
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

/* Exports one RESULT (a parsed result line). The best response has the
 * largest raw reward, the worst the smallest (the first of equals for both);
 * failed generations (null reward) are ignored. A result without "responses"
 * and "rewards" falls back to "best_response" for SFT. *SFT and *DPO (new
 * references, or NULL) receive the lines to write. MIN_MARGIN: a pair is
 * kept only when best - worst > MIN_MARGIN (so equal rewards never pair). */
toa_export_outcome_t toa_export_result (const json_t *result, double min_margin,
                                        json_t **sft, json_t **dpo);

/* Reads the results file INPUT and writes SFT_PATH and DPO_PATH (either may
 * be NULL to skip it). A prompt id seen twice is exported once. Lines that
 * are not JSON objects are reported in ERRORS as "FILE:LINE: reason" and
 * skipped. Returns 0 when the files were written, -1 on an I/O error
 * (ERRORS says which file). */
int toa_export_files (const char *input, const char *sft_path, const char *dpo_path,
                      double min_margin, toa_export_counts_t *counts, toa_errors_t *errors);

#endif
