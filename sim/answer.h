/* answer.h - numeric final answers in math responses: "#### N" markers, the
 * last number of a text, comparison and formatting. Pure functions. */
#ifndef TOA_SIM_ANSWER_H
#define TOA_SIM_ANSWER_H

#include <stdbool.h>
#include <stddef.h>

/* Parses a number like "1,128", "$5", "-3.50", "12." from the start of TEXT
 * (LENGTH bytes). Returns the bytes used, or 0 if no number starts there. */
size_t toa_sim_answer_parse (const char *text, size_t length, double *value);

/* Parses all of TEXT (surrounding whitespace allowed) as one number.
 * Returns 0, or -1 if it is not a number. */
int toa_sim_answer_parse_all (const char *text, double *value);

/* Values of every "#### N" marker in TEXT, in order, at most MAX stored in
 * VALUES. Returns how many markers were found (may exceed MAX). */
size_t toa_sim_answer_marked (const char *text, size_t length, double *values, size_t max);

/* The final answer of a response: its last "#### N", else its last number.
 * Returns 0 with *VALUE set, or -1 if TEXT holds no number. */
int toa_sim_answer_final (const char *text, size_t length, double *value);

/* True if A and B are the same number (relative tolerance 1e-9). */
bool toa_sim_answer_equal (double a, double b);

/* Writes VALUE as an answer ("42", "-3.5") into BUFFER. Returns BUFFER. */
char *toa_sim_answer_format (double value, char *buffer, size_t size);

#endif
