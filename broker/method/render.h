/* render.h - the chat messages of a generation task, from a plan: the
 * original prompt for an answer, the refine template for a refinement, the
 * aggregate template for an aggregation, each with the job's system message.
 * Pure: no I/O. */
#ifndef TOA_BROKER_RENDER_H
#define TOA_BROKER_RENDER_H

#include <stddef.h>

#include "broker/method/policy.h"
#include "broker/method/record.h"
#include "broker/method/settings.h"
#include "proto/proto.h"

/* A list of chat messages with owned strings. */
typedef struct {
    toa_chat_message_t *items;
    size_t count;
} toa_chat_list_t;

/* Builds the messages of PLAN into OUT (emptied first):
 *   answer:    [system] + PROMPT's messages (the job's system message is
 *              added only when the prompt has none of its own);
 *   refine:    [system] + user: templates.refine with {question} = QUESTION
 *              and {response} = the text of response inputs[0];
 *   aggregate: [system] + user: templates.aggregate with {question} and
 *              {responses} = the input responses, numbered.
 * RECORDS are the prompt's responses so far (N_RECORDS). Returns 0, or -1
 * with a reason in ERR (an input that is not a response with text, out of
 * memory). */
int toa_render_generation (const toa_job_settings_t *settings, const toa_chat_list_t *prompt,
                           const char *question, const toa_gen_plan_t *plan,
                           const toa_gen_record_t *records, size_t n_records,
                           toa_chat_list_t *out, char *err, size_t err_size);

/* Appends a copy of ROLE/CONTENT. Returns 0 or -1 (out of memory). */
int toa_chat_list_add (toa_chat_list_t *self, const char *role, const char *content);

/* Copies SOURCE into OUT (emptied first). Returns 0 or -1. */
int toa_chat_list_copy (toa_chat_list_t *out, const toa_chat_list_t *source);

/* Frees the messages; the list may be reused. */
void toa_chat_list_clear (toa_chat_list_t *self);

#endif
