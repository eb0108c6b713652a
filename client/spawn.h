/* spawn.h - runs a helper program (gnuplot, Graphviz's dot) found on PATH
 * and waits for it. */
#ifndef TOA_CLIENT_SPAWN_H
#define TOA_CLIENT_SPAWN_H

/* Runs ARGV[0] (looked up on PATH) with ARGV (NULL-ended) and waits.
 * Returns its exit status (1 when killed by a signal), or -1 when it
 * cannot be started (errno says why: ENOENT when it is not installed). */
int toa_spawn_wait (char *const argv[]);

#endif
