/* gnuplot.c - gnuplot quoting and running (see gnuplot.h). */
#include "client/gnuplot.h"

#include "client/spawn.h"

void
toa_gnuplot_quote (FILE *out, const char *text)
{
    fputc ('\'', out);
    for (const char *c = text; *c; c++) {
        if (*c == '\'')
            fputc ('\'', out);
        if (*c != '\n' && *c != '\r')
            fputc (*c, out);
    }
    fputc ('\'', out);
}

int
toa_gnuplot_run (const char *script)
{
    char *argv[] = {"gnuplot", (char *) script, NULL};
    return toa_spawn_wait (argv);
}
