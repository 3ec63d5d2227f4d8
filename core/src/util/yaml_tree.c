/* paysync core: YAML -> ps_ynode tree with marks (see yaml_tree.h). */
#include "util/yaml_tree.h"
#include "util/pathtext.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

void ps_ynode_free(ps_ynode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        ps_ynode_free(n->kids[i]);
    free(n->kids);
    free(n->s);
    free(n);
}

const ps_ynode *ps_ynode_get(const ps_ynode *m, const char *key)
{
    if (!m || m->type != PS_Y_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < m->n; i += 2)
        if (strcmp(m->kids[i]->s, key) == 0)
            return m->kids[i + 1];
    return NULL;
}

const char *ps_ynode_kind(const ps_ynode *n)
{
    if (!n)
        return "nothing";
    switch (n->type) {
    case PS_Y_MAP:
        return "a mapping";
    case PS_Y_SEQ:
        return "a sequence";
    default:
        return "a scalar";
    }
}

int ps_ynode_is_null(const ps_ynode *n)
{
    if (!n || n->type != PS_Y_SCALAR || !n->plain)
        return 0;
    return n->len == 0 || strcmp(n->s, "~") == 0 || strcmp(n->s, "null") == 0 ||
           strcmp(n->s, "Null") == 0 || strcmp(n->s, "NULL") == 0;
}

static int add_kid(ps_ynode *p, ps_ynode *k)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        ps_ynode **kids = realloc(p->kids, cap * sizeof *kids);
        if (!kids)
            return -1;
        p->kids = kids;
        p->cap = cap;
    }
    p->kids[p->n++] = k;
    return 0;
}

static ps_ynode *new_node(ps_ynode_type t, const yaml_mark_t *m)
{
    ps_ynode *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->type = t;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    return n;
}

typedef struct pstate {
    yaml_parser_t p;
    ps_ynode *stack[PS_YAML_MAX_DEPTH + 1];
    int depth;
    ps_ynode *root;
    size_t nodes;
    const char *name;
    ps_error *err;
} pstate;

/* Attaches n to the open collection (or makes it the root). Takes ownership of n. */
static ps_status attach(pstate *s, ps_ynode *n)
{
    if (++s->nodes > PS_YAML_MAX_NODES) {
        ps_status st =
            ps_error_setf(s->err, PS_ERR_CONFIG, "%s:%d:%d: too many YAML nodes (limit %d)",
                          PS_SHOWN(s->name), n->line, n->col, PS_YAML_MAX_NODES);
        ps_ynode_free(n);
        return st;
    }
    if (s->depth == 0) {
        s->root = n;
        return PS_OK;
    }
    ps_ynode *p = s->stack[s->depth - 1];
    if (p->type == PS_Y_MAP && p->n % 2 == 0) {
        /* n is a key */
        if (n->type != PS_Y_SCALAR) {
            ps_status st = ps_error_setf(s->err, PS_ERR_CONFIG,
                                         "%s:%d:%d: mapping keys must be scalars, found %s",
                                         PS_SHOWN(s->name), n->line, n->col, ps_ynode_kind(n));
            ps_ynode_free(n);
            return st;
        }
        for (size_t i = 0; i < p->n; i += 2) {
            if (strcmp(p->kids[i]->s, n->s) == 0) {
                ps_status st = ps_error_setf(s->err, PS_ERR_CONFIG,
                                             "%s:%d:%d: duplicate key '%s' (first at line %d)",
                                             PS_SHOWN(s->name), n->line, n->col, n->s, p->kids[i]->line);
                ps_ynode_free(n);
                return st;
            }
        }
    }
    if (add_kid(p, n) != 0) {
        ps_ynode_free(n);
        return ps_error_setf(s->err, PS_ERR_NOMEM, "%s: out of memory", PS_SHOWN(s->name));
    }
    return PS_OK;
}

static ps_status push(pstate *s, ps_ynode *n)
{
    if (s->depth >= PS_YAML_MAX_DEPTH) {
        ps_status st =
            ps_error_setf(s->err, PS_ERR_CONFIG, "%s:%d:%d: nesting deeper than %d levels", PS_SHOWN(s->name),
                          n->line, n->col, PS_YAML_MAX_DEPTH);
        ps_ynode_free(n);
        return st;
    }
    ps_status st = attach(s, n);
    if (st != PS_OK)
        return st;
    s->stack[s->depth++] = n;
    return PS_OK;
}

static ps_status on_event(pstate *s, yaml_event_t *ev, int *ndocs, int *done)
{
    const yaml_mark_t *m = &ev->start_mark;
    ps_ynode *n;
    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        *done = 1;
        return PS_OK;
    case YAML_DOCUMENT_START_EVENT:
        if (++*ndocs > 1)
            return ps_error_setf(s->err, PS_ERR_CONFIG,
                                 "%s:%d:%d: only one YAML document is allowed", PS_SHOWN(s->name),
                                 (int)m->line + 1, (int)m->column + 1);
        return PS_OK;
    case YAML_ALIAS_EVENT:
        return ps_error_setf(s->err, PS_ERR_CONFIG,
                             "%s:%d:%d: YAML aliases (*%s) are not supported; repeat the value",
                             PS_SHOWN(s->name), (int)m->line + 1, (int)m->column + 1,
                             (const char *)ev->data.alias.anchor);
    case YAML_SCALAR_EVENT:
        n = new_node(PS_Y_SCALAR, m);
        if (!n || !(n->s = malloc(ev->data.scalar.length + 1))) {
            free(n);
            return ps_error_setf(s->err, PS_ERR_NOMEM, "%s: out of memory", PS_SHOWN(s->name));
        }
        memcpy(n->s, ev->data.scalar.value, ev->data.scalar.length);
        n->s[ev->data.scalar.length] = '\0';
        n->len = ev->data.scalar.length;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        return attach(s, n);
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        n = new_node(ev->type == YAML_MAPPING_START_EVENT ? PS_Y_MAP : PS_Y_SEQ, m);
        if (!n)
            return ps_error_setf(s->err, PS_ERR_NOMEM, "%s: out of memory", PS_SHOWN(s->name));
        return push(s, n);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (s->depth > 0)
            s->depth--;
        return PS_OK;
    default:
        return PS_OK;
    }
}

ps_status ps_yaml_parse(const char *buf, size_t len, const char *name, ps_ynode **root,
                        ps_error *err)
{
    *root = NULL;
    if (len > PS_YAML_MAX_BYTES)
        return ps_error_setf(err, PS_ERR_CONFIG, "%s: file is %zu bytes, the limit is %d",
                             PS_SHOWN(name),
                             len, PS_YAML_MAX_BYTES);
    pstate s;
    memset(&s, 0, sizeof s);
    s.name = name;
    s.err = err;
    if (!yaml_parser_initialize(&s.p))
        return ps_error_setf(err, PS_ERR_NOMEM, "%s: out of memory", PS_SHOWN(name));
    yaml_parser_set_input_string(&s.p, (const unsigned char *)buf, len);
    ps_status st = PS_OK;
    int ndocs = 0, done = 0;
    while (!done && st == PS_OK) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&s.p, &ev)) {
            const yaml_mark_t *m = &s.p.problem_mark;
            st = ps_error_setf(err, PS_ERR_CONFIG, "%s:%d:%d: YAML syntax error: %s%s%s",
                               PS_SHOWN(name),
                               (int)m->line + 1, (int)m->column + 1,
                               s.p.problem ? s.p.problem : "invalid YAML", s.p.context ? " " : "",
                               s.p.context ? s.p.context : "");
            break;
        }
        st = on_event(&s, &ev, &ndocs, &done);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&s.p);
    if (st == PS_OK && !s.root)
        st = ps_error_setf(err, PS_ERR_CONFIG, "%s:1:1: the configuration is empty", name);
    if (st != PS_OK) {
        ps_ynode_free(s.root);
        return st;
    }
    *root = s.root;
    return PS_OK;
}
