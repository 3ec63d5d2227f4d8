/* paysync core: a small YAML tree with source marks, used by config.c.
 * Built with libyaml's event API; refuses aliases, limits depth, node count and size. */
#ifndef PS_YAML_TREE_H
#define PS_YAML_TREE_H

#include <stddef.h>

#include "paysync/status.h"

#define PS_YAML_MAX_BYTES (1024 * 1024) /* larger inputs are refused */
#define PS_YAML_MAX_DEPTH 32            /* nested mappings/sequences */
#define PS_YAML_MAX_NODES 20000         /* scalars + collections in one document */

typedef enum ps_ynode_type { PS_Y_SCALAR = 1, PS_Y_MAP = 2, PS_Y_SEQ = 3 } ps_ynode_type;

typedef struct ps_ynode {
    ps_ynode_type type;
    char *s;                /* scalar text (NUL-terminated; may contain NUL only if the YAML did) */
    size_t len;             /* scalar length */
    int plain;              /* 1 for an unquoted scalar (so `~`/`null`/empty mean "no value") */
    int line, col;          /* 1-based start of the node */
    struct ps_ynode **kids; /* map: key, value, key, value...; seq: items */
    size_t n, cap;
} ps_ynode;

/* Parses one YAML document from buf. Errors (PS_ERR_CONFIG) are "name:line:col: ..." for
 * syntax errors, aliases, duplicate mapping keys, non-scalar keys, too deep nesting, too many
 * nodes, several documents or an empty document. Caller frees *root with ps_ynode_free. */
ps_status ps_yaml_parse(const char *buf, size_t len, const char *name, ps_ynode **root,
                        ps_error *err);

void ps_ynode_free(ps_ynode *n);

/* Value of key in mapping m, NULL when absent (or m is not a mapping). */
const ps_ynode *ps_ynode_get(const ps_ynode *m, const char *key);

/* "a mapping", "a sequence", "a scalar". */
const char *ps_ynode_kind(const ps_ynode *n);

/* 1 for a plain empty, `~` or `null` scalar. */
int ps_ynode_is_null(const ps_ynode *n);

#endif
