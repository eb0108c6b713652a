/* keygen.h - `toa keygen NAME`: makes a CURVE key pair (czmq certificate
 * files) for the broker, a worker, a scorer or a client. */
#ifndef TOA_CLIENT_KEYGEN_H
#define TOA_CLIENT_KEYGEN_H

/* Runs the command on its own command line (ARGV[0] is "keygen"). Returns
 * an exit code of client/exit_codes.h. */
int toa_keygen_main (int argc, char **argv);

#endif
