/* display.c - the client's progress bar, plain progress lines and notes on
 * stderr (see display.h). */
#include "client/display.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

void
toa_display_init (toa_display_t *self, FILE *stream, bool quiet)
{
    self->stream = stream;
    self->tty = isatty (fileno (stream)) == 1;
    self->quiet = quiet;
    self->bar_shown = false;
    self->last_draw_ms = 0;
    self->drawn = false;
}

/* The terminal's width in columns (80 when unknown). */
static int
s_columns (FILE *stream)
{
    struct winsize size;
    if (ioctl (fileno (stream), TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
        return size.ws_col;
    const char *columns = getenv ("COLUMNS");
    int value = columns ? atoi (columns) : 0;
    return value > 0 ? value : 80;
}

void
toa_display_progress (toa_display_t *self, const toa_progress_t *progress, int64_t now_ms,
                      bool force)
{
    if (self->quiet || !progress->have_status)
        return;
    int64_t interval = self->tty ? TOA_DISPLAY_BAR_MS : TOA_DISPLAY_PLAIN_MS;
    if (!force && self->drawn && now_ms - self->last_draw_ms < interval)
        return;
    char line[1024];
    if (self->tty) {
        toa_progress_bar (progress, s_columns (self->stream), line, sizeof line);
        fprintf (self->stream, "\r%s\x1b[K", line);
        self->bar_shown = true;
    }
    else
        fprintf (self->stream, "%s\n", toa_progress_plain (progress, now_ms, line, sizeof line));
    fflush (self->stream);
    self->last_draw_ms = now_ms;
    self->drawn = true;
}

void
toa_display_note (toa_display_t *self, const char *fmt, ...)
{
    if (self->bar_shown)
        fprintf (self->stream, "\r\x1b[K");
    va_list args;
    va_start (args, fmt);
    vfprintf (self->stream, fmt, args);
    va_end (args);
    fputc ('\n', self->stream);
    fflush (self->stream);
    /* the bar comes back at the next redraw */
    if (self->bar_shown) {
        self->bar_shown = false;
        self->drawn = false;
    }
}

void
toa_display_end (toa_display_t *self)
{
    if (self->bar_shown) {
        fputc ('\n', self->stream);
        fflush (self->stream);
        self->bar_shown = false;
    }
}
