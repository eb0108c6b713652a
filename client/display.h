/* display.h - what the client shows on stderr while it waits for a job:
 * on a terminal a one-line progress bar redrawn in place (at most 5 times a
 * second), otherwise a plain progress line every TOA_DISPLAY_PLAIN_MS (and
 * at the end); notes ("broker silent for 12 s, still waiting") are printed
 * on their own line without breaking the bar. */
#ifndef TOA_CLIENT_DISPLAY_H
#define TOA_CLIENT_DISPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "client/progress.h"

#define TOA_DISPLAY_PLAIN_MS 5000  /* between plain lines */
#define TOA_DISPLAY_BAR_MS   200   /* between redraws of the bar */

typedef struct {
    FILE *stream;
    bool tty;                /* draw the bar in place */
    bool quiet;              /* no progress at all */
    bool bar_shown;          /* the bar is on the current line */
    int64_t last_draw_ms;    /* bar redraw or plain line */
    bool drawn;              /* something was drawn at least once */
} toa_display_t;

/* Shows on STREAM (stderr); a terminal gets the bar. QUIET hides progress
 * (notes still show). */
void toa_display_init (toa_display_t *self, FILE *stream, bool quiet);

/* Shows PROGRESS if its time has come (or FORCE). NOW_MS is monotonic. */
void toa_display_progress (toa_display_t *self, const toa_progress_t *progress, int64_t now_ms,
                           bool force);

/* Prints a note line (a newline is added), above the bar. */
void toa_display_note (toa_display_t *self, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* Ends the bar's line, if one is shown. */
void toa_display_end (toa_display_t *self);

#endif
