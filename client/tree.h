/* tree.h - draws the search tree of one TOA result: indented text for a
 * terminal, or Graphviz dot. The tree is the result's "tree" field:
 * {"nodes": [{id, parent, kind (root|action|response), visits, mean_reward,
 *   model, depth, j (actions: refined generation, -1 = sample afresh),
 *   g, raw, reward (responses)}]}, a parent always before its children.
 * A result without a tree (other methods) is drawn as its list of
 * generations. Pure apart from the FILE * it writes to. */
#ifndef TOA_CLIENT_TREE_H
#define TOA_CLIENT_TREE_H

#include <stdio.h>
#include <jansson.h>

#include "common/errors.h"

/* The first result whose id is ID (as toa_prompt_id_text writes it: "830"
 * finds 830 and "830") in the results file INPUT. Returns a new
 * reference, or NULL with the reason in ERRORS (cannot read, not found). */
json_t *toa_tree_find_result (const char *input, const char *id, toa_errors_t *errors);

/* Writes RESULT's tree as indented text to OUT. Returns 0, or -1 with the
 * reason in ERRORS (a malformed tree). */
int toa_tree_write_text (const json_t *result, FILE *out, toa_errors_t *errors);

/* Writes RESULT's tree as a Graphviz digraph to OUT; the best response is
 * highlighted. Returns 0, or -1 with the reason in ERRORS (no tree, or a
 * malformed one). */
int toa_tree_write_dot (const json_t *result, FILE *out, toa_errors_t *errors);

/* Draws RESULT's tree as SVG into PATH with Graphviz's dot (found on
 * PATH). Returns 0, or -1 with the reason in ERRORS (no tree, dot missing
 * or failing). */
int toa_tree_write_svg (const json_t *result, const char *path, toa_errors_t *errors);

#endif
