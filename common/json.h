/* json.h - small jansson helpers shared by the validators: showing a JSON
 * value in an error message. */
#ifndef TOA_JSON_H
#define TOA_JSON_H

#include <stddef.h>
#include <jansson.h>

/* "an object", "an array", "a string", "an integer", "a number", "true",
 * "false" or "null": for messages that must not repeat the value. */
const char *toa_json_type_name (const json_t *value);

/* VALUE as an error message shows it, in OUT (SIZE bytes): a string as JSON
 * (quoted and escaped, cut after about 46 characters with "..."), a number as
 * written, true/false/null, and "an object" / "an array" for containers.
 * Returns OUT. */
const char *toa_json_show (const json_t *value, char *out, size_t size);

#endif
