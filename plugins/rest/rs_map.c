/* rest: filters, lookups and field mapping of records (see rs_internal.h). */
#include <stdlib.h>
#include <string.h>

#include "rs_internal.h"
#include "rs_tmpl.h"

/* ---- filters ------------------------------------------------------------------------------ */

static int in_list(const rs_node *list, const char *v)
{
    for (const rs_node *c = list->child; c; c = c->next) {
        const char *t = rs_scalar_text(c);
        if (t && strcmp(t, v) == 0)
            return 1;
    }
    return 0;
}

int rs_keep(const rs *p, const rs_node *item)
{
    for (size_t i = 0; i < p->m->nfilters; i++) {
        const rs_filter *f = &p->m->filters[i];
        const rs_node *n = rs_pointer(item, f->path);
        const char *v = rs_scalar_text(n);
        int present = n && n->type != RS_NULL;
        int ok;
        switch (f->op) {
        case RS_F_EQ:
            ok = v && strcmp(v, rs_scalar_text(f->values)) == 0;
            break;
        case RS_F_NE:
            ok = !v || strcmp(v, rs_scalar_text(f->values)) != 0;
            break;
        case RS_F_IN:
            ok = v && in_list(f->values, v);
            break;
        case RS_F_NOT_IN:
            ok = !v || !in_list(f->values, v);
            break;
        case RS_F_PRESENT:
            ok = present;
            break;
        default:
            ok = !present;
            break;
        }
        if (!ok)
            return 0;
    }
    return 1;
}

/* ---- lookup index ------------------------------------------------------------------------- */

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int grow(rs_index *x)
{
    size_t cap = x->cap ? x->cap * 2 : 256;
    const char **keys = calloc(cap, sizeof *keys);
    const rs_node **items = calloc(cap, sizeof *items);
    if (!keys || !items) {
        free(keys);
        free(items);
        return -1;
    }
    for (size_t i = 0; i < x->cap; i++) {
        if (!x->keys[i])
            continue;
        size_t k = hash(x->keys[i]) & (cap - 1);
        while (keys[k])
            k = (k + 1) & (cap - 1);
        keys[k] = x->keys[i];
        items[k] = x->items[i];
    }
    free(x->keys);
    free(x->items);
    x->keys = keys;
    x->items = items;
    x->cap = cap;
    return 0;
}

int rs_index_add(rs *p, size_t i, const rs_node *items, int copy)
{
    rs_index *x = &p->lookups[i];
    const char *keyp = p->m->lookups[i].key;
    for (const rs_node *it = items->child; it; it = it->next) {
        const char *k = rs_scalar_text(rs_pointer(it, keyp));
        if (!k || !*k)
            continue;
        if ((x->count + 1) * 2 > x->cap && grow(x) != 0)
            return -1;
        size_t h = hash(k) & (x->cap - 1);
        while (x->keys[h] && strcmp(x->keys[h], k) != 0)
            h = (h + 1) & (x->cap - 1);
        if (x->keys[h])
            continue; /* the first item with a key wins */
        const rs_node *kept = it;
        if (copy) {
            if (!(kept = rs_node_copy(p->run, it)))
                return -1;
            k = rs_scalar_text(rs_pointer(kept, keyp));
        }
        x->keys[h] = k;
        x->items[h] = kept;
        x->count++;
    }
    return 0;
}

const rs_node *rs_index_get(const rs_index *x, const char *key)
{
    if (!x->cap || !key || !*key)
        return NULL;
    size_t h = hash(key) & (x->cap - 1);
    while (x->keys[h]) {
        if (strcmp(x->keys[h], key) == 0)
            return x->items[h];
        h = (h + 1) & (x->cap - 1);
    }
    return NULL;
}

/* ---- evaluation --------------------------------------------------------------------------- */

static uint8_t number_type(const char *s)
{
    size_t i = s[0] == '-';
    int dot = 0, digits = 0;
    for (; s[i]; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            digits++;
        else if (s[i] == '.' && !dot && digits)
            dot = 1;
        else
            return PS_VAL_TEXT; /* an exponent: handed on as text, never through a double */
    }
    if (!digits || s[i - 1] == '.')
        return PS_VAL_TEXT;
    return dot ? PS_VAL_DECIMAL : PS_VAL_INT;
}

/* Value of a node from the source: text and type (NULL text when absent or null). */
static void from_node(const rs_node *n, const char **text, uint32_t *len, uint8_t *type)
{
    *text = NULL;
    if (!n || !rs_is_scalar(n) || n->type == RS_NULL)
        return;
    *text = rs_scalar_text(n);
    *len = (uint32_t)strlen(*text);
    *type = n->type == RS_NUM ? number_type(*text) : n->type == RS_STR ? PS_VAL_TEXT : PS_VAL_BOOL;
    if (n->type == RS_STR && *len == 0)
        *text = NULL;
}

/* The item of lookup spec.lookup whose key equals this record's key: spec.key is a pointer
 * into the record or, for a chained lookup, a spec evaluated on it. NULL when none (or on
 * an allocation failure, which *oom reports). */
static const rs_node *lookup_item(rs *p, const rs_node *spec, const rs_node *item, ps_arena *arena,
                                  int *oom)
{
    const char *name = rs_obj_get(spec, "lookup")->text;
    const rs_node *kn = rs_obj_get(spec, "key");
    const char *k;
    if (kn->type == RS_OBJ) {
        uint32_t kl;
        uint8_t kt;
        if (rs_eval(p, kn, item, arena, &k, &kl, &kt) != 0) {
            *oom = 1;
            return NULL;
        }
        if (!k)
            return NULL;
        if (k[kl] != '\0' && !(k = p->host->arena_strndup(arena, k, kl))) {
            *oom = 1;
            return NULL;
        }
    } else {
        k = rs_scalar_text(rs_pointer(item, kn->text));
    }
    for (size_t i = 0; i < p->m->nlookups; i++)
        if (strcmp(p->m->lookups[i].name, name) == 0)
            return rs_index_get(&p->lookups[i], k);
    return NULL;
}

int rs_eval(rs *p, const rs_node *spec, const rs_node *item, ps_arena *arena, const char **text,
            uint32_t *len, uint8_t *type)
{
    *text = NULL;
    *len = 0;
    *type = PS_VAL_TEXT;
    const rs_node *n;
    if (spec->type == RS_STR) {
        from_node(rs_pointer(item, spec->text), text, len, type);
    } else if ((n = rs_obj_get(spec, "path"))) {
        from_node(rs_pointer(item, n->text), text, len, type);
    } else if ((n = rs_obj_get(spec, "option"))) {
        const char *v = rs_opt(p, n->text);
        if (v && *v) {
            *text = v;
            *len = (uint32_t)strlen(v);
        }
    } else if ((n = rs_obj_get(spec, "value"))) {
        char *b = NULL, badv[80];
        size_t bl = 0, bc = 0;
        int rc = rs_tmpl_expand(n->text, rs_var, p, 0, &b, &bl, &bc, NULL, badv, sizeof badv);
        if (rc == -2) {
            free(b);
            return -1;
        }
        if (rc == 0 && bl) {
            *text = p->host->arena_strndup(arena, b, bl);
            *len = (uint32_t)bl;
            if (!*text) {
                free(b);
                return -1;
            }
        }
        free(b);
    } else if ((n = rs_obj_get(spec, "lookup"))) {
        int oom = 0;
        const rs_node *hit = lookup_item(p, spec, item, arena, &oom);
        if (oom)
            return -1;
        if (hit)
            from_node(rs_pointer(hit, rs_obj_get(spec, "field")->text), text, len, type);
    } else if ((n = rs_obj_get(spec, "first"))) {
        for (const rs_node *c = n->child; c && !*text; c = c->next)
            if (rs_eval(p, c, item, arena, text, len, type) != 0)
                return -1;
    } else if ((n = rs_obj_get(spec, "concat"))) {
        char *b = NULL;
        size_t bl = 0, bc = 0;
        for (const rs_node *c = n->child; c; c = c->next) {
            const char *t;
            uint32_t l;
            uint8_t ty;
            if (c->type == RS_STR && c->text[0] != '/') {
                t = c->text;
                l = c->n;
            } else if (rs_eval(p, c, item, arena, &t, &l, &ty) != 0) {
                free(b);
                return -1;
            }
            if (t && l && rs_buf_put(&b, &bl, &bc, t, l) != 0) {
                free(b);
                return -1;
            }
        }
        /* only separators = nothing found */
        int any = 0;
        for (size_t i = 0; i < bl; i++)
            any |= b[i] != ' ';
        if (any) {
            *text = p->host->arena_strndup(arena, b, bl);
            *len = (uint32_t)bl;
            *type = PS_VAL_TEXT;
            if (!*text) {
                free(b);
                return -1;
            }
        }
        free(b);
    }
    const rs_node *map = rs_obj_get(spec, "map");
    if (map && *text) {
        const rs_node *hit = NULL;
        for (const rs_node *k = map->child; k; k = k->next)
            if (strcmp(k->key, *text) == 0)
                hit = k;
        if (!hit)
            hit = rs_obj_get(map, "*");
        *text = hit ? rs_scalar_text(hit) : NULL;
        if (*text && !**text)
            *text = NULL;
        *len = *text ? (uint32_t)strlen(*text) : 0;
        *type = PS_VAL_TEXT;
    }
    return 0;
}
