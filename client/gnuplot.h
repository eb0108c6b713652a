/* gnuplot.h - what toa compare and toa report share to draw with gnuplot:
 * quoting text into a script, running gnuplot on a script. */
#ifndef TOA_CLIENT_GNUPLOT_H
#define TOA_CLIENT_GNUPLOT_H

#include <stdio.h>

/* Writes TEXT to OUT as a gnuplot single-quoted string (a quote is written
 * twice; line breaks are dropped). */
void toa_gnuplot_quote (FILE *out, const char *text);

/* Runs gnuplot SCRIPT and waits. Returns its exit status, or -1 when it
 * cannot start (errno says why: ENOENT when gnuplot is not installed). */
int toa_gnuplot_run (const char *script);

#endif
