/* tokens.h - the client's job tokens: without CURVE, `toa submit` makes a
 * random token for each job, sends it with the submit and keeps it in a file
 * of its own (mode 0600, in a 0700 directory); `toa attach`, `status` and
 * `cancel` of that job read it back and send it: the broker serves a job's
 * requests only with its token (broker/owners.h). The directory is
 * $TOA_TOKEN_DIR, else $XDG_STATE_HOME/toa/tokens, else
 * ~/.local/state/toa/tokens; one file per job, named by the job id. */
#ifndef TOA_CLIENT_TOKENS_H
#define TOA_CLIENT_TOKENS_H

#include <stddef.h>

#define TOA_TOKEN_SIZE 33        /* 32 hex digits and a NUL */

/* A new random token into TOKEN. Returns 0, or -1 when no randomness. */
int toa_tokens_make (char token[TOA_TOKEN_SIZE]);

/* Keeps TOKEN for JOB; PATH gets the file. Returns 0, or -1 with errno. */
int toa_tokens_save (const char *job, const char *token, char *path, size_t path_size);

/* JOB's token into TOKEN. Returns 0, or -1 when none is kept (errno). */
int toa_tokens_load (const char *job, char token[TOA_TOKEN_SIZE]);

#endif
