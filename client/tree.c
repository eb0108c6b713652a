/* tree.c - draws a TOA result's search tree as text or Graphviz dot (see
 * tree.h). */
#include "client/tree.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/spawn.h"
#include "common/prompts.h"

#define S_SNIPPET 48         /* bytes of a response shown in the text tree */

typedef struct {
    const json_t *result;
    json_t *nodes;           /* the tree's node array (borrowed) */
    size_t n;
    size_t *parent;          /* index of each node's parent; n for the root */
    size_t *first_child;     /* n when none */
    size_t *next_sibling;    /* n when none */
    json_int_t best_g;       /* generation with the largest raw reward, -1 if none */
} s_tree_t;

/* The compact JSON text of a node id, for the id -> index map (malloc'd). */
static char *
s_node_key (const json_t *id)
{
    return id ? json_dumps (id, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
}

static void
s_tree_free (s_tree_t *tree)
{
    free (tree->parent);
    free (tree->first_child);
    free (tree->next_sibling);
}

/* Index of the largest raw reward in RESULT's "rewards" (first on ties). */
static json_int_t
s_best_generation (const json_t *result)
{
    json_t *rewards = json_object_get (result, "rewards");
    json_int_t best = -1;
    for (size_t i = 0; i < json_array_size (rewards); i++) {
        json_t *reward = json_array_get (rewards, i);
        if (json_is_number (reward)
            && (best < 0 || json_number_value (reward)
                                > json_number_value (json_array_get (rewards, (size_t) best))))
            best = (json_int_t) i;
    }
    return best;
}

/* Links RESULT's nodes into parent/children arrays. Returns 0, 1 when the
 * result has no tree, or -1 with ERRORS filled (malformed). */
static int
s_tree_load (s_tree_t *tree, const json_t *result, toa_errors_t *errors)
{
    memset (tree, 0, sizeof *tree);
    tree->result = result;
    tree->best_g = s_best_generation (result);
    tree->nodes = json_object_get (json_object_get (result, "tree"), "nodes");
    if (!json_is_array (tree->nodes) || json_array_size (tree->nodes) == 0)
        return 1;
    size_t n = tree->n = json_array_size (tree->nodes);
    tree->parent = malloc (n * sizeof (size_t));
    tree->first_child = malloc (n * sizeof (size_t));
    tree->next_sibling = malloc (n * sizeof (size_t));
    json_t *index_of = json_object ();        /* id text -> index */
    size_t *last_child = malloc (n * sizeof (size_t));
    int rc = tree->parent && tree->first_child && tree->next_sibling && index_of && last_child
                 ? 0 : -1;
    if (rc != 0)
        toa_errors_add (errors, "tree: out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_t *node = json_array_get (tree->nodes, i);
        json_t *parent = json_object_get (node, "parent");
        char *id = s_node_key (json_object_get (node, "id"));
        char *parent_id = json_is_null (parent) || !parent ? NULL : s_node_key (parent);
        json_t *parent_index = parent_id ? json_object_get (index_of, parent_id) : NULL;
        tree->first_child[i] = tree->next_sibling[i] = n;
        if (!json_is_object (node) || !id || (i == 0) != (parent_id == NULL)
            || (i > 0 && !parent_index)) {
            toa_errors_add (errors, "tree: node %zu: %s", i,
                            i == 0 ? "the first node must be the root (parent null)"
                                   : "its parent is not an earlier node");
            rc = -1;
        }
        else {
            json_object_set_new (index_of, id, json_integer ((json_int_t) i));
            size_t p = parent_index ? (size_t) json_integer_value (parent_index) : n;
            tree->parent[i] = p;
            if (p < n) {
                if (tree->first_child[p] == n)
                    tree->first_child[p] = i;
                else
                    tree->next_sibling[last_child[p]] = i;
                last_child[p] = i;
            }
        }
        free (id);
        free (parent_id);
    }
    free (last_child);
    json_decref (index_of);
    if (rc != 0)
        s_tree_free (tree);
    return rc;
}

static const char *
s_str (const json_t *node, const char *key, const char *fallback)
{
    const char *text = json_string_value (json_object_get (node, key));
    return text ? text : fallback;
}

static json_int_t
s_int (const json_t *node, const char *key, json_int_t fallback)
{
    json_t *value = json_object_get (node, key);
    return json_is_integer (value) ? json_integer_value (value) : fallback;
}

/* "sim-alpha" or "model 2" for a numeric model. */
static void
s_model (const json_t *node, char *buf, size_t size)
{
    json_t *model = json_object_get (node, "model");
    if (json_is_string (model))
        snprintf (buf, size, "%s", json_string_value (model));
    else if (json_is_integer (model))
        snprintf (buf, size, "model %lld", (long long) json_integer_value (model));
    else
        snprintf (buf, size, "?");
}

/* " 0.620" or " -" for a missing number. */
static void
s_number (const json_t *value, char *buf, size_t size)
{
    if (json_is_number (value))
        snprintf (buf, size, "%.3f", json_number_value (value));
    else
        snprintf (buf, size, "-");
}

/* The first bytes of generation G's text on one line, cut on a UTF-8
 * character boundary, "..." when cut. BUF holds S_SNIPPET + 4 bytes or more. */
static void
s_snippet (const json_t *result, json_int_t g, char *buf, size_t size)
{
    const char *text = g >= 0 ? json_string_value (json_array_get (
                           json_object_get (result, "responses"), (size_t) g)) : NULL;
    buf[0] = '\0';
    if (!text || size < 8)
        return;
    size_t limit = size - 4 < S_SNIPPET ? size - 4 : S_SNIPPET, used = 0;
    const unsigned char *p = (const unsigned char *) text;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    while (*p) {
        size_t length = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : 4;
        if (used + length > limit)
            break;
        for (size_t k = 0; k < length && *p; k++, p++)
            buf[used++] = (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : (char) *p;
    }
    buf[used] = '\0';
    if (*p)
        strcat (buf, "...");
}

/* The one-line description of node I (without tree drawing). */
static void
s_describe (const s_tree_t *tree, size_t i, char *buf, size_t size)
{
    const json_t *node = json_array_get (tree->nodes, i);
    const char *kind = s_str (node, "kind", "?");
    char model[128], mean[32];
    s_model (node, model, sizeof model);
    s_number (json_object_get (node, "mean_reward"), mean, sizeof mean);
    long long visits = (long long) s_int (node, "visits", 0);
    if (strcmp (kind, "root") == 0)
        snprintf (buf, size, "root  visits %lld  mean %s", visits, mean);
    else if (strcmp (kind, "action") == 0) {
        json_int_t depth = s_int (node, "depth", 0), j = s_int (node, "j", -1);
        char what[48];
        if (j >= 0)
            snprintf (what, sizeof what, "refine #%lld", (long long) j);
        else
            snprintf (what, sizeof what, "%s", depth == 0 ? "answer" : "answer afresh");
        snprintf (buf, size, "%s %s  visits %lld  mean %s", model, what, visits, mean);
    }
    else {
        json_int_t g = s_int (node, "g", -1);
        char raw[32], reward[32], snippet[S_SNIPPET + 8];
        s_number (json_object_get (node, "raw"), raw, sizeof raw);
        s_number (json_object_get (node, "reward"), reward, sizeof reward);
        s_snippet (tree->result, g, snippet, sizeof snippet);
        snprintf (buf, size, "#%lld %s  raw %s  reward %s  visits %lld%s  \"%s\"",
                  (long long) g, model, raw, reward, visits,
                  g >= 0 && g == tree->best_g ? "  (best)" : "", snippet);
    }
}

/* True for an action the search never tried: no response under it, no
 * reward. The text tree lists these on one line per parent. */
static bool
s_untried (const s_tree_t *tree, size_t i)
{
    const json_t *node = json_array_get (tree->nodes, i);
    return strcmp (s_str (node, "kind", ""), "action") == 0 && tree->first_child[i] == tree->n
           && !json_is_number (json_object_get (node, "mean_reward"));
}

/* "sim-alpha refine #4" for an action node. */
static void
s_action_name (const s_tree_t *tree, size_t i, char *buf, size_t size)
{
    char line[512];
    s_describe (tree, i, line, sizeof line);
    char *end = strstr (line, "  visits");
    if (end)
        *end = '\0';
    snprintf (buf, size, "%s", line);
}

/* Writes node I and its subtree; PREFIX is the drawing of the levels above. */
static int
s_write_subtree (const s_tree_t *tree, size_t i, char *prefix, size_t prefix_len,
                 size_t prefix_cap, FILE *out)
{
    char line[512];
    s_describe (tree, i, line, sizeof line);
    fprintf (out, "%s\n", line);
    if (prefix_len + 4 >= prefix_cap)
        return -1;
    size_t untried = 0, tried_left = 0;
    for (size_t c = tree->first_child[i]; c < tree->n; c = tree->next_sibling[c])
        s_untried (tree, c) ? untried++ : tried_left++;
    for (size_t c = tree->first_child[i]; c < tree->n; c = tree->next_sibling[c]) {
        if (s_untried (tree, c))
            continue;
        bool last = --tried_left == 0 && untried == 0;
        fprintf (out, "%.*s%s", (int) prefix_len, prefix, last ? "`-- " : "+-- ");
        memcpy (prefix + prefix_len, last ? "    " : "|   ", 4);
        if (s_write_subtree (tree, c, prefix, prefix_len + 4, prefix_cap, out) != 0)
            return -1;
    }
    if (untried) {
        fprintf (out, "%.*s`-- untried:", (int) prefix_len, prefix);
        const char *separator = " ";
        for (size_t c = tree->first_child[i]; c < tree->n; c = tree->next_sibling[c])
            if (s_untried (tree, c)) {
                char name[512];
                s_action_name (tree, c, name, sizeof name);
                fprintf (out, "%s%s", separator, name);
                separator = ", ";
            }
        fprintf (out, "\n");
    }
    return 0;
}

/* Without a tree: one line per generation. */
static void
s_write_generations (const json_t *result, FILE *out)
{
    json_t *responses = json_object_get (result, "responses");
    json_t *actions = json_object_get (result, "actions");
    json_t *rewards = json_object_get (result, "rewards");
    json_int_t best = s_best_generation (result);
    fprintf (out, "method %s: no tree; %zu generations\n",
             s_str (result, "method", "?"), json_array_size (responses));
    for (size_t g = 0; g < json_array_size (responses); g++) {
        json_t *action = json_array_get (actions, g);
        char model[128], raw[32], snippet[S_SNIPPET + 8];
        s_model (action, model, sizeof model);
        s_number (json_array_get (rewards, g), raw, sizeof raw);
        s_snippet (result, (json_int_t) g, snippet, sizeof snippet);
        fprintf (out, "#%zu %s depth %lld  raw %s%s  \"%s\"\n", g, model,
                 (long long) s_int (action, "depth", 0), raw,
                 (json_int_t) g == best ? "  (best)" : "", snippet);
    }
}

int
toa_tree_write_text (const json_t *result, FILE *out, toa_errors_t *errors)
{
    s_tree_t tree;
    int rc = s_tree_load (&tree, result, errors);
    if (rc == 1) {
        s_write_generations (result, out);
        return 0;
    }
    if (rc != 0)
        return -1;
    size_t cap = 4 * tree.n + 8;
    char *prefix = malloc (cap);
    rc = prefix ? s_write_subtree (&tree, 0, prefix, 0, cap, out) : -1;
    if (rc != 0)
        toa_errors_add (errors, "tree: out of memory");
    free (prefix);
    s_tree_free (&tree);
    return rc;
}

/* Writes TEXT inside a dot double-quoted string. */
static void
s_dot_escape (FILE *out, const char *text)
{
    for (; *text; text++) {
        if (*text == '"' || *text == '\\')
            fputc ('\\', out);
        if (*text == '\n')
            fputs ("\\n", out);
        else
            fputc (*text, out);
    }
}

int
toa_tree_write_dot (const json_t *result, FILE *out, toa_errors_t *errors)
{
    s_tree_t tree;
    int rc = s_tree_load (&tree, result, errors);
    if (rc == 1) {
        toa_errors_add (errors, "result has no tree (method %s); only toa results have one",
                        s_str (result, "method", "?"));
        return -1;
    }
    if (rc != 0)
        return -1;
    fprintf (out, "digraph toa {\n  node [shape=box, fontname=\"monospace\"];\n");
    for (size_t i = 0; i < tree.n; i++) {
        const json_t *node = json_array_get (tree.nodes, i);
        const char *kind = s_str (node, "kind", "?");
        char label[512];
        s_describe (&tree, i, label, sizeof label);
        /* a label on two lines: what the node is, then its numbers */
        char *split = strstr (label, "  ");
        if (split)
            memcpy (split, "\n ", 2);
        fprintf (out, "  n%zu [label=\"", i);
        s_dot_escape (out, label);
        fprintf (out, "\"");
        if (strcmp (kind, "action") == 0)
            fprintf (out, ", shape=ellipse%s", s_untried (&tree, i) ? ", style=dashed" : "");
        else if (strcmp (kind, "response") == 0 && s_int (node, "g", -1) == tree.best_g)
            fprintf (out, ", style=filled, fillcolor=\"palegreen\"");
        fprintf (out, "];\n");
        if (tree.parent[i] < tree.n)
            fprintf (out, "  n%zu -> n%zu;\n", tree.parent[i], i);
    }
    fprintf (out, "}\n");
    s_tree_free (&tree);
    return 0;
}

/* True when ID (command-line text) names the prompt of RESULT. */
static bool
s_id_matches (const json_t *result, const char *id)
{
    char key[TOA_PROMPTS_MAX_ID + 1];
    return toa_prompt_id_text (result, key, sizeof key) && strcmp (key, id) == 0;
}

json_t *
toa_tree_find_result (const char *input, const char *id, toa_errors_t *errors)
{
    FILE *in = fopen (input, "r");
    if (!in) {
        toa_errors_add (errors, "%s: cannot read: %s", input, strerror (errno));
        return NULL;
    }
    char *line = NULL;
    size_t capacity = 0;
    ssize_t length;
    json_t *found = NULL;
    bool plain = id[strspn (id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789_.-")] == '\0';
    while (!found && (length = getline (&line, &capacity, in)) > 0) {
        /* cheap filter before parsing a large line, for ids JSON never escapes */
        if (plain && !strstr (line, id))
            continue;
        json_t *result = json_loadb (line, (size_t) length, 0, NULL);
        if (json_is_object (result) && s_id_matches (result, id))
            found = result;
        else
            json_decref (result);
    }
    free (line);
    fclose (in);
    if (!found)
        toa_errors_add (errors, "%s: no result with id %s", input, id);
    return found;
}

int
toa_tree_write_svg (const json_t *result, const char *path, toa_errors_t *errors)
{
    char dot_path[] = "/tmp/toa-tree.XXXXXX";
    int fd = mkstemp (dot_path);
    FILE *dot = fd >= 0 ? fdopen (fd, "w") : NULL;
    if (!dot) {
        toa_errors_add (errors, "cannot write a temporary file: %s", strerror (errno));
        if (fd >= 0) {
            close (fd);
            unlink (dot_path);
        }
        return -1;
    }
    int rc = toa_tree_write_dot (result, dot, errors);
    if (fclose (dot) != 0 && rc == 0) {
        toa_errors_add (errors, "%s: write failed: %s", dot_path, strerror (errno));
        rc = -1;
    }
    if (rc == 0) {
        char *argv[] = {"dot", "-Tsvg", dot_path, "-o", (char *) path, NULL};
        int status = toa_spawn_wait (argv);
        if (status < 0) {
            toa_errors_add (errors, "toa tree: --svg needs Graphviz's dot, which %s: install graphviz "
                            "(deploy/install-deps.sh does), or write dot with --dot",
                            errno == ENOENT ? "is not on PATH" : strerror (errno));
            rc = -1;
        }
        else if (status != 0) {
            toa_errors_add (errors, "dot failed (exit %d) drawing %s", status, path);
            rc = -1;
        }
    }
    unlink (dot_path);
    return rc;
}
