/* prompts.h - the input JSONL of prompts: checking each line, reading and
 * checking a whole file, and turning a prompt into chat messages.
 *
 * A prompt file has one JSON object per line:
 *   - "id": a non-empty string of at most 256 bytes without control
 *     characters, or an integer; unique in the file ("7" and 7 are the same
 *     id, since both become the same key downstream);
 *   - "instruction": a non-empty string, or "messages": a non-empty array of
 *     {"role": "system"|"user"|"assistant", "content": string} whose last
 *     message is the user's (non-empty); exactly one of the two;
 *   - any other field is kept and passed through to the result.
 * Blank lines (only spaces, tabs, CR) are skipped; a line longer than
 * TOA_PROMPTS_MAX_LINE bytes is an error; a file without any prompt is an
 * error. Messages name the line: "FILE:LINE: reason". */
#ifndef TOA_PROMPTS_H
#define TOA_PROMPTS_H

#include <stddef.h>
#include <jansson.h>

#include "common/errors.h"

#define TOA_PROMPTS_MAX_LINE (16u * 1024 * 1024)   /* bytes per line */
#define TOA_PROMPTS_MAX_ID 256                      /* bytes of a string id */

/* Remembers the ids seen so far, to find duplicates. */
typedef struct toa_prompt_checker_s toa_prompt_checker_t;

toa_prompt_checker_t *toa_prompt_checker_new (void);

/* Frees it; nulls *SELF_P; safe on NULL. */
void toa_prompt_checker_destroy (toa_prompt_checker_t **self_p);

/* Records the id of PROMPT (an object that passed toa_prompts_validate_line)
 * as seen on LINE_NO. Returns 0, or -1 with REASON (at most SIZE bytes)
 * such as: id: duplicate id 7 (first on line 3). */
int toa_prompt_checker_add (toa_prompt_checker_t *self, const json_t *prompt,
                            size_t line_no, char *reason, size_t size);

/* Checks one line of LENGTH bytes (no need for a NUL; a trailing "\n" or
 * "\r\n" is allowed). With CHECKER, also checks and records the id.
 * Returns 1 with *PROMPT set to the parsed object (json_decref it), 0 for a
 * blank line (nothing to do), or -1 with REASON filled (without the file and
 * line, which the caller adds). LINE_NO is only used for the duplicate
 * message. */
int toa_prompts_validate_line (const char *text, size_t length, size_t line_no,
                               toa_prompt_checker_t *checker, json_t **prompt,
                               char *reason, size_t size);

/* One non-blank line of a prompt file. */
typedef struct {
    size_t line_no;          /* 1-based line number in the file */
    const char *text;        /* the line, NUL-terminated, without its newline */
    size_t length;
} toa_prompt_file_line_t;

/* The prompt lines of a file, all of them valid. */
typedef struct {
    toa_prompt_file_line_t *lines;
    size_t count;
    char *buffer;            /* owns the text the lines point into */
} toa_prompt_file_t;

/* Reads and checks every line of PATH. Returns the lines when all are valid
 * and there is at least one prompt; otherwise NULL with every problem added
 * to ERRORS as "PATH:LINE: reason" (or "PATH: reason" for the whole file:
 * missing, unreadable, no prompt). */
toa_prompt_file_t *toa_prompts_read_file (const char *path, toa_errors_t *errors);

/* Frees it; nulls *SELF_P; safe on NULL. */
void toa_prompt_file_destroy (toa_prompt_file_t **self_p);

/* The id of PROMPT as text (a string id as is, an integer in decimal), in
 * BUFFER of SIZE bytes (TOA_PROMPTS_MAX_ID + 1 always suffices). Returns
 * BUFFER, or NULL when PROMPT has no valid id. */
const char *toa_prompt_id_text (const json_t *prompt, char *buffer, size_t size);

/* The question of PROMPT: its instruction, or the content of its last user
 * message. Borrowed from PROMPT; NULL when it has neither. */
const char *toa_prompt_question (const json_t *prompt);

/* Chat messages for PROMPT, as a new JSON array of {"role", "content"}:
 * [system, user: instruction] for an instruction, or a copy of its messages.
 * SYSTEM_TEXT (may be NULL) is put first as a system message unless the
 * prompt's own messages already start with one. Returns NULL when PROMPT has
 * neither instruction nor messages, or when out of memory. */
json_t *toa_prompt_messages (const json_t *prompt, const char *system_text);

#endif
