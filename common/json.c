/* json.c - small jansson helpers for error messages (see json.h). */
#include "common/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
toa_json_type_name (const json_t *value)
{
    switch (value ? json_typeof (value) : JSON_NULL) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    default: return "null";
    }
}

const char *
toa_json_show (const json_t *value, char *out, size_t size)
{
    if (!size)
        return out;
    if (json_is_string (value)) {
        char *dump = json_dumps (value, JSON_ENCODE_ANY);
        if (!dump)
            snprintf (out, size, "a string");
        else if (strlen (dump) > 50)
            snprintf (out, size, "%.46s...\"", dump);
        else
            snprintf (out, size, "%s", dump);
        free (dump);
    }
    else if (json_is_integer (value))
        snprintf (out, size, "%lld", (long long) json_integer_value (value));
    else if (json_is_real (value))
        snprintf (out, size, "%g", json_real_value (value));
    else
        snprintf (out, size, "%s", toa_json_type_name (value));
    return out;
}
