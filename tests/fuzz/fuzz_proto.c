/* fuzz_proto.c - libFuzzer target for the proto decoder (tests/fuzz/run.sh).
 * Any input: decoding must fail cleanly (empty message, matching error) or
 * succeed; a decoded message must re-encode, decode again to the same type,
 * and re-encode to the same bytes. Sanitizers catch the rest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

static void
s_check (int condition, const char *what)
{
    if (!condition) {
        fprintf (stderr, "fuzz_proto: %s\n", what);
        abort ();
    }
}

static int
s_all_zero (const void *data, size_t size)
{
    const unsigned char *bytes = data;
    for (size_t i = 0; i < size; i++)
        if (bytes[i])
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    toa_msg_t msg, again;
    toa_proto_error_t error;
    toa_proto_status_t status = toa_proto_decode (data, size, &msg, &error);
    s_check (error.status == status, "error->status differs from the result");
    s_check (memchr (error.field, '\0', sizeof error.field) != NULL, "error->field unterminated");
    if (status != TOA_PROTO_OK) {
        s_check (s_all_zero (&msg, sizeof msg), "failed decode left data in the message");
        toa_msg_clear (&msg);
        return 0;
    }
    char *first = NULL, *second = NULL;
    size_t first_size = 0, second_size = 0;
    s_check (toa_proto_encode (&msg, &first, &first_size) == 0, "decoded message does not encode");
    s_check (toa_proto_decode (first, first_size, &again, &error) == TOA_PROTO_OK,
             "re-encoded message does not decode");
    s_check (again.type == msg.type, "type changed in a round trip");
    s_check (toa_proto_encode (&again, &second, &second_size) == 0, "second encode failed");
    s_check (first_size == second_size && memcmp (first, second, first_size) == 0,
             "encoding is not stable across a round trip");
    free (first);
    free (second);
    toa_msg_clear (&msg);
    toa_msg_clear (&again);
    return 0;
}
