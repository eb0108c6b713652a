/* log.h - leveled logging to stderr (or a file) for every toa program.
 * Lines look like: 2026-11-27T09:40:00.123Z toa-worker[1234] INFO message
 * Callers must never pass secrets (API keys, passwords, Authorization). */
#ifndef TOA_LOG_H
#define TOA_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    TOA_LOG_ERROR = 0,
    TOA_LOG_WARN = 1,
    TOA_LOG_INFO = 2,
    TOA_LOG_DEBUG = 3
} toa_log_level_t;

/* Program name shown in every line (default "toa"). */
void toa_log_set_name (const char *name);

/* Lines above LEVEL are dropped (default INFO; TOA_LOG_LEVEL=debug|info|warn|error
 * in the environment overrides it at the first log call). */
void toa_log_set_level (toa_log_level_t level);

/* Parses "error", "warn", "info", "debug". Returns 0, or -1 if unknown. */
int toa_log_parse_level (const char *text, toa_log_level_t *level);

/* Appends lines to PATH instead of stderr. Returns 0 or -1. */
int toa_log_set_file (const char *path);

/* Formats FMT with ARGS into OUT (cut to SIZE) without its trailing
 * newlines: a library's log callback (libmicrohttpd) made one toa line. */
void toa_log_vline (char *out, size_t size, const char *fmt, va_list args)
    __attribute__ ((format (printf, 3, 0)));

void toa_log (toa_log_level_t level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* A line a peer can cause at will (a refused key, an answer for a task it
 * does not hold) is logged at most once per period; the lines dropped in
 * between are counted and reported with the next one. Zero-initialise. */
typedef struct {
    int64_t next_ms;             /* no line before this */
    uint64_t dropped;            /* lines dropped since the last one logged */
} toa_log_limit_t;

/* True when a line may be logged at NOW (milliseconds): the next one may
 * come EVERY_MS later, *DROPPED gets the count of lines dropped since the
 * last one logged (for the caller to say so) and the count restarts. False
 * (the line is dropped and counted) otherwise. */
bool toa_log_limit_pass (toa_log_limit_t *self, int64_t now, int64_t every_ms,
                         uint64_t *dropped);

/* Writes " (and DROPPED WHAT not logged since the last)" into OUT, or "" when
 * DROPPED is 0: the tail of a rate-limited line. */
void toa_log_limit_note (char *out, size_t size, uint64_t dropped, const char *what);

#define toa_error(...) toa_log (TOA_LOG_ERROR, __VA_ARGS__)
#define toa_warn(...)  toa_log (TOA_LOG_WARN, __VA_ARGS__)
#define toa_info(...)  toa_log (TOA_LOG_INFO, __VA_ARGS__)
#define toa_debug(...) toa_log (TOA_LOG_DEBUG, __VA_ARGS__)

#endif
