/* rest: YAML manifest -> rs_node tree (see rs_yaml.h). */
#include "rs_yaml.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

typedef struct yctx {
    rs_pool *pool;
    yaml_parser_t parser;
    const char *name;
    char *msg;
    size_t cap;
    int depth;
} yctx;

static rs_node *yfail(yctx *y, const yaml_mark_t *m, const char *what)
{
    snprintf(y->msg, y->cap, "%s:%zu:%zu: %s", y->name, m->line + 1, m->column + 1, what);
    return NULL;
}

static rs_node *node_from(yctx *y, yaml_event_t *ev);

static rs_node *collection(yctx *y, yaml_event_t *start, int map)
{
    if (++y->depth > RS_JSON_MAX_DEPTH)
        return yfail(y, &start->start_mark, "nested too deeply");
    rs_node *n = rs_pool_alloc(y->pool, sizeof *n);
    if (!n)
        return yfail(y, &start->start_mark, "out of memory");
    n->type = map ? RS_OBJ : RS_ARR;
    n->line = (uint32_t)start->start_mark.line + 1;
    n->col = (uint32_t)start->start_mark.column + 1;
    rs_node **tail = &n->child;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&y->parser, &ev))
            return yfail(y, &y->parser.problem_mark,
                         y->parser.problem ? y->parser.problem : "invalid YAML");
        if (ev.type == (map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT)) {
            yaml_event_delete(&ev);
            break;
        }
        const char *key = NULL;
        if (map) {
            if (ev.type != YAML_SCALAR_EVENT) {
                rs_node *r = yfail(y, &ev.start_mark, "a mapping key must be a plain text");
                yaml_event_delete(&ev);
                return r;
            }
            key =
                rs_pool_strndup(y->pool, (const char *)ev.data.scalar.value, ev.data.scalar.length);
            for (rs_node *c = n->child; key && c; c = c->next)
                if (strcmp(c->key, key) == 0) {
                    char m[300];
                    snprintf(m, sizeof m, "key '%s' given twice", key);
                    rs_node *r = yfail(y, &ev.start_mark, m);
                    yaml_event_delete(&ev);
                    return r;
                }
            yaml_event_delete(&ev);
            if (!key)
                return yfail(y, &y->parser.mark, "out of memory");
            if (!yaml_parser_parse(&y->parser, &ev))
                return yfail(y, &y->parser.problem_mark,
                             y->parser.problem ? y->parser.problem : "invalid YAML");
        }
        rs_node *c = node_from(y, &ev);
        yaml_event_delete(&ev);
        if (!c)
            return NULL;
        c->key = key;
        *tail = c;
        tail = &c->next;
        n->n++;
    }
    y->depth--;
    return n;
}

/* Builds the node that starts with ev (ev is deleted by the caller). */
static rs_node *node_from(yctx *y, yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        return yfail(y, &ev->start_mark, "aliases (*name) are not supported");
    case YAML_SCALAR_EVENT: {
        if (ev->data.scalar.anchor || (ev->data.scalar.tag && ev->data.scalar.plain_implicit == 0 &&
                                       ev->data.scalar.quoted_implicit == 0))
            return yfail(y, &ev->start_mark, "anchors and tags are not supported");
        rs_node *n = rs_pool_alloc(y->pool, sizeof *n);
        if (!n || !(n->text = rs_pool_strndup(y->pool, (const char *)ev->data.scalar.value,
                                              ev->data.scalar.length)))
            return yfail(y, &ev->start_mark, "out of memory");
        if (strlen(n->text) != ev->data.scalar.length)
            return yfail(y, &ev->start_mark, "NUL byte in a value");
        n->type = RS_STR;
        n->n = (uint32_t)ev->data.scalar.length;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        n->line = (uint32_t)ev->start_mark.line + 1;
        n->col = (uint32_t)ev->start_mark.column + 1;
        if (n->plain && (strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 || n->n == 0))
            n->type = RS_NULL;
        return n;
    }
    case YAML_MAPPING_START_EVENT:
        if (ev->data.mapping_start.anchor)
            return yfail(y, &ev->start_mark, "anchors are not supported");
        return collection(y, ev, 1);
    case YAML_SEQUENCE_START_EVENT:
        if (ev->data.sequence_start.anchor)
            return yfail(y, &ev->start_mark, "anchors are not supported");
        return collection(y, ev, 0);
    default:
        return yfail(y, &ev->start_mark, "unexpected YAML event");
    }
}

rs_node *rs_yaml_parse(rs_pool *p, const char *name, const char *text, size_t len, char *msg,
                       size_t cap)
{
    yctx y = {.pool = p, .name = name, .msg = msg, .cap = cap};
    if (!yaml_parser_initialize(&y.parser)) {
        snprintf(msg, cap, "%s: out of memory", name);
        return NULL;
    }
    yaml_parser_set_input_string(&y.parser, (const unsigned char *)text, len);
    rs_node *root = NULL;
    int done = 0;
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&y.parser, &ev)) {
            root = yfail(&y, &y.parser.problem_mark,
                         y.parser.problem ? y.parser.problem : "invalid YAML");
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (root) {
                yfail(&y, &ev.start_mark, "more than one YAML document");
                root = NULL;
                done = 1;
            }
            break;
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        default:
            if (root) {
                yfail(&y, &ev.start_mark, "more than one YAML document");
                root = NULL;
                done = 1;
                break;
            }
            root = node_from(&y, &ev);
            if (!root)
                done = 1;
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&y.parser);
    if (root && root->type != RS_OBJ) {
        snprintf(msg, cap, "%s: the manifest must be a mapping (key: value lines)", name);
        return NULL;
    }
    if (!root && !*msg)
        snprintf(msg, cap, "%s: the manifest is empty", name);
    return root;
}

rs_node *rs_yaml_load(rs_pool *p, const char *path, char *msg, size_t cap)
{
    msg[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(msg, cap, "cannot open manifest '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        snprintf(msg, cap, "manifest '%s' is not a regular file", path);
        return NULL;
    }
    if (sb.st_size > RS_YAML_MAX_BYTES) {
        close(fd);
        snprintf(msg, cap, "manifest '%s' is larger than %d bytes", path, RS_YAML_MAX_BYTES);
        return NULL;
    }
    char *buf = malloc((size_t)sb.st_size + 1);
    size_t got = 0;
    while (buf && got < (size_t)sb.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)sb.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf || got != (size_t)sb.st_size) {
        free(buf);
        snprintf(msg, cap, "cannot read manifest '%s'", path);
        return NULL;
    }
    rs_node *root = rs_yaml_parse(p, path, buf, got, msg, cap);
    free(buf);
    return root;
}
