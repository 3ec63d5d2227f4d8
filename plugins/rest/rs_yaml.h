/* rest: reads a YAML manifest into an rs_node tree (mappings -> RS_OBJ, sequences -> RS_ARR,
 * scalars -> RS_STR with line, column and whether they were plain). Aliases, anchors and
 * tags are refused; the file is at most RS_YAML_MAX_BYTES. */
#ifndef PS_RS_YAML_H
#define PS_RS_YAML_H

#include <stddef.h>

#include "rs_json.h"

#define RS_YAML_MAX_BYTES (1024 * 1024)

/* Parses the YAML document in path into the pool. Returns the root, or NULL with a message
 * naming the file (and line:column) in msg. */
rs_node *rs_yaml_load(rs_pool *p, const char *path, char *msg, size_t cap);

/* Same for text in memory (name is used in messages). */
rs_node *rs_yaml_parse(rs_pool *p, const char *name, const char *text, size_t len, char *msg,
                       size_t cap);

#endif
