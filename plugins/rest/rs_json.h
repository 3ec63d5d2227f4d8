/* rest: a bounded JSON (RFC 8259) tree that keeps every number's exact text, and the node
 * type the YAML manifest is read into as well.
 *
 * Numbers are never converted: a node keeps the bytes the server sent ("1500.50", "12"), so
 * money never passes through a double. Strings are unescaped into the document's pool (valid
 * UTF-8, no NUL). Depth, size and node count are bounded by the caller's limits. */
#ifndef PS_RS_JSON_H
#define PS_RS_JSON_H

#include <stddef.h>
#include <stdint.h>

#define RS_JSON_MAX_DEPTH 64

typedef enum rs_type {
    RS_NULL = 0,
    RS_FALSE,
    RS_TRUE,
    RS_NUM, /* text: the number exactly as written */
    RS_STR, /* text: the decoded string (YAML: any scalar) */
    RS_ARR,
    RS_OBJ
} rs_type;

typedef struct rs_node {
    uint8_t type;     /* rs_type */
    uint8_t plain;    /* YAML: an unquoted scalar */
    uint32_t n;       /* ARR/OBJ: children; NUM/STR: text length */
    uint32_t line;    /* YAML: 1-based line (0 for JSON) */
    uint32_t col;     /* YAML: 1-based column */
    const char *text; /* NUM/STR: NUL-terminated text; NULL otherwise */
    const char *key;  /* member of an object: its key (NUL-terminated); else NULL */
    struct rs_node *child, *next;
} rs_node;

/* A pool owning nodes and strings; freed at once. */
typedef struct rs_pool rs_pool;

rs_pool *rs_pool_new(void);
/* Frees the pool and everything allocated in it. NULL is a no-op. */
void rs_pool_free(rs_pool *p);
/* Bytes allocated so far (for limits). */
size_t rs_pool_used(const rs_pool *p);
/* size bytes (8-aligned, zeroed) or NULL when out of memory. */
void *rs_pool_alloc(rs_pool *p, size_t size);
/* A NUL-terminated copy of s[0..n), NULL when out of memory. */
char *rs_pool_strndup(rs_pool *p, const char *s, size_t n);

/* Parses s[0..len) as one JSON value into the pool. Returns the root, or NULL with a reason
 * ("unexpected end of input at byte 812", "out of memory") in why. */
rs_node *rs_json_parse(rs_pool *p, const char *s, size_t len, char *why, size_t whycap);

/* A deep copy of n (with its key, without its siblings) in pool p; NULL when out of memory. */
rs_node *rs_node_copy(rs_pool *p, const rs_node *n);

/* The member `key` of an object (the last one when repeated), NULL when absent. */
const rs_node *rs_obj_get(const rs_node *obj, const char *key);
/* The node at a JSON pointer ("", "/a/b/0", "~1" = '/', "~0" = '~'), NULL when absent. A
 * segment "[key=value]" on an array selects its first object whose member key is the scalar
 * value ("/attribute_values/[name=Name]/value"). */
const rs_node *rs_pointer(const rs_node *root, const char *ptr);
/* 1 when the node is a scalar with text (NUM or STR), a bool or null. */
int rs_is_scalar(const rs_node *n);
/* A scalar's text: NUM/STR as is, "true"/"false", "" for null; NULL for ARR/OBJ or NULL. */
const char *rs_scalar_text(const rs_node *n);

/* Appends s[0..n) to *buf (malloc'd, growing; *len and *cap track it) JSON-escaped inside
 * quotes. 0, or -1 when out of memory. */
int rs_json_quote(char **buf, size_t *len, size_t *cap, const char *s, size_t n);
/* Appends raw bytes. 0 or -1. */
int rs_buf_put(char **buf, size_t *len, size_t *cap, const char *s, size_t n);

#endif
