/* keygen.c - `toa keygen NAME [--dir DIR]`: writes DIR/NAME.key (public
 * certificate, to hand to the broker's operator) and DIR/NAME.key_secret
 * (the pair, mode 0600, stays on this machine). See keygen.h. */
#include "client/keygen.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "client/exit_codes.h"
#include "proto/curve.h"

static const char *s_usage =
    "usage: toa keygen NAME [--dir DIR]\n"
    "\n"
    "Makes a CURVE key pair: DIR/NAME.key (the public certificate) and\n"
    "DIR/NAME.key_secret (the pair, mode 0600; never copy it off this machine).\n"
    "DIR (default: the current directory) is made, mode 0700, when missing.\n"
    "Existing files are never overwritten. Then:\n"
    "  broker:          curve.broker_key = DIR/NAME.key; give NAME.key to every\n"
    "                   machine that connects\n"
    "  worker, scorer:  curve.peer_key = DIR/NAME.key; copy NAME.key into the\n"
    "                   broker's curve.peer_keys_dir\n"
    "  client:          curve.client_key = DIR/NAME.key; copy NAME.key into the\n"
    "                   broker's curve.client_keys_dir (and curve.admin_keys_dir\n"
    "                   for a client that may see every job)\n";

/* A name is a file name: letters, digits, '.', '_' and '-', not starting with '.'. */
static bool
s_valid_name (const char *name)
{
    if (!*name || name[0] == '.' || strlen (name) > 200)
        return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
              || *c == '.' || *c == '_' || *c == '-'))
            return false;
    return true;
}

int
toa_keygen_main (int argc, char **argv)
{
    const char *name = NULL, *dir = ".";
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0) {
            fputs (s_usage, stdout);
            return TOA_EXIT_OK;
        }
        if (strcmp (argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (argv[i][0] != '-' && !name)
            name = argv[i];
        else {
            fprintf (stderr, "toa keygen: unexpected argument '%s'\n\n%s", argv[i], s_usage);
            return TOA_EXIT_USAGE;
        }
    }
    if (!name || !s_valid_name (name)) {
        fprintf (stderr, "toa keygen: %s\n\n%s",
                 name ? "NAME may hold only letters, digits, '.', '_' and '-'"
                      : "NAME is required",
                 s_usage);
        return TOA_EXIT_USAGE;
    }
    if (mkdir (dir, 0700) != 0 && errno != EEXIST) {
        fprintf (stderr, "toa keygen: %s: %s\n", dir, strerror (errno));
        return TOA_EXIT_FAILED;
    }
    char path[4096], public_key[TOA_CURVE_KEY_TEXT], err[600];
    if ((size_t) snprintf (path, sizeof path, "%s/%s.key", dir, name) >= sizeof path) {
        fprintf (stderr, "toa keygen: %s: path too long\n", dir);
        return TOA_EXIT_USAGE;
    }
    if (toa_curve_keygen (path, public_key, err, sizeof err) != 0) {
        fprintf (stderr, "toa keygen: %s\n", err);
        return TOA_EXIT_FAILED;
    }
    printf ("wrote %s (public) and %s_secret (secret, mode 0600)\npublic key: %s\n", path,
            path, public_key);
    return TOA_EXIT_OK;
}
