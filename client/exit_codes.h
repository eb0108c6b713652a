/* exit_codes.h - the exit status of every toa command, documented in
 * client/README.md and `toa --help`. */
#ifndef TOA_CLIENT_EXIT_CODES_H
#define TOA_CLIENT_EXIT_CODES_H

#define TOA_EXIT_OK        0     /* done */
#define TOA_EXIT_FAILED    1     /* the job failed, was cancelled or is unknown; I/O error */
#define TOA_EXIT_USAGE     2     /* bad command line, config or input file; submit rejected */
#define TOA_EXIT_NO_BROKER 3     /* no answer from the broker */
#define TOA_EXIT_DETACHED  130   /* Ctrl-C: detached, the job goes on */
#define TOA_EXIT_TERMINATED 143  /* SIGTERM: detached, the job goes on */

#endif
