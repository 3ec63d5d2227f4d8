/* paysync core: YAML configuration (see config.h and docs/configuration.md). */
#include "config/config.h"
#include "config/schedule.h"
#include "store/store_kind.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/model_fields.h"
#include "model/phone.h"
#include "util/regex.h"
#include "util/yaml_tree.h"
#include "util/pathtext.h"

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

typedef struct cctx {
    const char *file;
    const char *dir;
    ps_config *c;
    ps_error *err;
    int uses_env;
} cctx;

/* ---- small helpers ------------------------------------------------------------------- */

static ps_status oom(cctx *x)
{
    return ps_error_setf(x->err, PS_ERR_NOMEM, "%s: out of memory", PS_SHOWN(x->file));
}

/* "FILE:LINE:COL: PATH: message" */
static ps_status cerr(cctx *x, const ps_ynode *n, const char *path, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static ps_status cerr(cctx *x, const ps_ynode *n, const char *path, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ps_error_setf(x->err, PS_ERR_CONFIG, "%s:%d:%d: %s: %s", PS_SHOWN(x->file), n ? n->line : 1,
                         n ? n->col : 1, path, msg);
}

/* snprintf for key paths (truncation is harmless there). */
static void pathf(char *buf, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void pathf(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

static int grow(void **arr, size_t *cap, size_t n, size_t elsz)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 4;
    void *p = realloc(*arr, nc * elsz);
    if (!p)
        return -1;
    *arr = p;
    *cap = nc;
    return 0;
}

char *ps_path_resolve(const char *dir, const char *path)
{
    if (!path)
        return NULL;
    if (path[0] == '/' || strcmp(path, "-") == 0 || !dir || !dir[0])
        return strdup(path);
    size_t ld = strlen(dir), lp = strlen(path);
    char *out = malloc(ld + lp + 2);
    if (!out)
        return NULL;
    memcpy(out, dir, ld);
    size_t o = ld;
    if (o > 0 && out[o - 1] != '/')
        out[o++] = '/';
    memcpy(out + o, path, lp + 1);
    return out;
}

/* " (did you mean 'x'?)" or "" */
static const char *hint(char *buf, size_t cap, const char *word, const char *const *cands, size_t n)
{
    const char *s = ps_suggest(word, cands, n);
    if (!s)
        return "";
    snprintf(buf, cap, " (did you mean '%s'?)", s);
    return buf;
}

static ps_status check_keys(cctx *x, const ps_ynode *m, const char *path,
                            const char *const *allowed, size_t n)
{
    for (size_t i = 0; i < m->n; i += 2) {
        const ps_ynode *k = m->kids[i];
        size_t j;
        for (j = 0; j < n; j++)
            if (strcmp(k->s, allowed[j]) == 0)
                break;
        if (j == n) {
            char h[128];
            return cerr(x, k, path, "unknown key '%s'%s", k->s,
                        hint(h, sizeof h, k->s, allowed, n));
        }
    }
    return PS_OK;
}

static ps_status want_map(cctx *x, const ps_ynode *n, const char *path)
{
    if (n->type != PS_Y_MAP)
        return cerr(x, n, path, "expected a mapping (key: value), found %s", ps_ynode_kind(n));
    return PS_OK;
}

/* Substitutes ${VAR}; `$${` stands for a literal `${`. */
static ps_status subst(cctx *x, const ps_ynode *n, const char *path, char **out)
{
    const char *s = n->s;
    size_t cap = n->len + 1, len = 0;
    char *o = malloc(cap);
    if (!o)
        return oom(x);
    for (size_t i = 0; i < n->len;) {
        const char *piece = s + i;
        size_t plen = 1, adv = 1;
        if (s[i] == '$' && i + 2 < n->len + 1 && s[i + 1] == '$' && s[i + 2] == '{') {
            piece = "${";
            plen = 2;
            adv = 3;
        } else if (s[i] == '$' && s[i + 1] == '{') {
            const char *end = memchr(s + i + 2, '}', n->len - i - 2);
            if (!end) {
                free(o);
                return cerr(x, n, path, "unterminated '${' in value (write '$${' for a literal)");
            }
            size_t vl = (size_t)(end - (s + i + 2));
            char name[128];
            int ok =
                vl > 0 && vl < sizeof name && (isalpha((unsigned char)s[i + 2]) || s[i + 2] == '_');
            for (size_t k = 0; ok && k < vl; k++)
                ok = isalnum((unsigned char)s[i + 2 + k]) || s[i + 2 + k] == '_';
            if (!ok) {
                free(o);
                return cerr(x, n, path, "invalid variable name '${%.*s}' (use letters, digits, _)",
                            (int)(vl > 64 ? 64 : vl), s + i + 2);
            }
            memcpy(name, s + i + 2, vl);
            name[vl] = '\0';
            piece = getenv(name);
            if (!piece) {
                free(o);
                return cerr(x, n, path, "environment variable '%s' is not set", name);
            }
            x->uses_env = 1;
            plen = strlen(piece);
            adv = vl + 3;
        }
        if (len + plen + 1 > cap) {
            size_t nc = (len + plen + 1) * 2;
            char *no = realloc(o, nc);
            if (!no) {
                free(o);
                return oom(x);
            }
            o = no;
            cap = nc;
        }
        memcpy(o + len, piece, plen);
        len += plen;
        i += adv;
    }
    o[len] = '\0';
    *out = o;
    return PS_OK;
}

/* A scalar value after substitution; malloc'd into *out. */
static ps_status scalar(cctx *x, const ps_ynode *n, const char *path, char **out)
{
    if (n->type != PS_Y_SCALAR)
        return cerr(x, n, path, "expected a single value, found %s", ps_ynode_kind(n));
    return subst(x, n, path, out);
}

static ps_status nonempty(cctx *x, const ps_ynode *n, const char *path, char **out)
{
    if (n->type == PS_Y_SCALAR && ps_ynode_is_null(n))
        return cerr(x, n, path, "a value is required");
    ps_status st = scalar(x, n, path, out);
    if (st == PS_OK && (*out)[0] == '\0') {
        free(*out);
        *out = NULL;
        return cerr(x, n, path, "a value is required (it is empty)");
    }
    return st;
}

/* mode 0: plugin names [a-z0-9_]; 1: sink names, also A-Z - .; 2: dataset names, also inner
 * spaces ("01_2024_Site Name"). At most 128 characters. */
static int name_ok(const char *s, int mode)
{
    size_t l = strlen(s);
    if (l == 0 || l > 128 || s[0] == ' ' || s[l - 1] == ' ')
        return 0;
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (!(islower(ch) || isdigit(ch) || ch == '_' ||
              (mode >= 1 && (isupper(ch) || ch == '-' || ch == '.')) || (mode == 2 && ch == ' ')))
            return 0;
    }
    return 1;
}

static ps_status kv_push(cctx *x, ps_kv **arr, size_t *n, size_t *cap, const char *key, char *value,
                         int line, int col)
{
    if (grow((void **)arr, cap, *n, sizeof **arr) != 0) {
        free(value);
        return oom(x);
    }
    ps_kv *kv = &(*arr)[*n];
    kv->key = strdup(key);
    if (!kv->key) {
        free(value);
        return oom(x);
    }
    kv->value = value;
    kv->line = line;
    kv->col = col;
    (*n)++;
    return PS_OK;
}

/* A list of scalars; a single scalar counts as a one-item list. */
static ps_status str_list(cctx *x, const ps_ynode *n, const char *path, char ***out, size_t *nout)
{
    size_t cap = 0;
    const ps_ynode *const *items = (const ps_ynode *const *)&n;
    size_t count = 1;
    if (n->type == PS_Y_SEQ) {
        items = (const ps_ynode *const *)n->kids;
        count = n->n;
    } else if (n->type != PS_Y_SCALAR) {
        return cerr(x, n, path, "expected a list of values, found %s", ps_ynode_kind(n));
    }
    for (size_t i = 0; i < count; i++) {
        char *v;
        ps_status st = nonempty(x, items[i], path, &v);
        if (st != PS_OK)
            return st;
        if (grow((void **)out, &cap, *nout, sizeof **out) != 0) {
            free(v);
            return oom(x);
        }
        (*out)[(*nout)++] = v;
    }
    return PS_OK;
}

/* ---- plugin references --------------------------------------------------------------- */

/* `{plugin: NAME, options...}`. With def_plugin, `plugin` may be left out (then NAME is
 * def_plugin) and the key `skip` is not an option (the caller reads it). */
static ps_status parse_ref_ex(cctx *x, const ps_ynode *n, const char *path, ps_plugin_ref *ref,
                              const char *def_plugin, const char *skip)
{
    ps_status st = want_map(x, n, path);
    if (st != PS_OK)
        return st;
    ref->line = n->line;
    ref->col = n->col;
    const ps_ynode *p = ps_ynode_get(n, "plugin");
    char sub[300];
    if (!p && def_plugin) {
        if (!(ref->plugin = strdup(def_plugin)))
            return oom(x);
    } else if (!p) {
        static const char *const k[] = {"plugin"};
        for (size_t i = 0; i < n->n; i += 2)
            if (ps_suggest(n->kids[i]->s, k, 1))
                return cerr(x, n->kids[i], path, "unknown key '%s' (did you mean 'plugin'?)",
                            n->kids[i]->s);
        return cerr(x, n, path, "missing key 'plugin' (the plugin's name, e.g. plugin: csvfile)");
    }
    pathf(sub, sizeof sub, "%s.plugin", path);
    if (p && (st = nonempty(x, p, sub, &ref->plugin)) != PS_OK)
        return st;
    if (p && !name_ok(ref->plugin, 0))
        return cerr(x, p, sub, "plugin name '%s' must be lower-case letters, digits and _",
                    ref->plugin);
    size_t cap = 0;
    for (size_t i = 0; i < n->n; i += 2) {
        const ps_ynode *k = n->kids[i], *v = n->kids[i + 1];
        if (strcmp(k->s, "plugin") == 0 || (skip && strcmp(k->s, skip) == 0))
            continue;
        pathf(sub, sizeof sub, "%s.%s", path, k->s);
        if (v->type != PS_Y_SCALAR)
            return cerr(x, v, sub, "option values must be single values, found %s",
                        ps_ynode_kind(v));
        char *val;
        if ((st = scalar(x, v, sub, &val)) != PS_OK)
            return st;
        if ((st = kv_push(x, &ref->opts, &ref->nopts, &cap, k->s, val, k->line, k->col)) != PS_OK)
            return st;
    }
    return PS_OK;
}

static ps_status parse_ref(cctx *x, const ps_ynode *n, const char *path, ps_plugin_ref *ref)
{
    return parse_ref_ex(x, n, path, ref, NULL, NULL);
}

/* verify_meters: a path (a CSV file) or a plugin reference with an optional `column`. */
static ps_status parse_meters(cctx *x, const ps_ynode *n, const char *path, ps_dataset_def *d)
{
    ps_status st;
    if (n->type == PS_Y_SCALAR) {
        char *file;
        if ((st = nonempty(x, n, path, &file)) != PS_OK)
            return st;
        d->meters.line = n->line;
        d->meters.col = n->col;
        if (!(d->meters.plugin = strdup("csvfile"))) {
            free(file);
            return oom(x);
        }
        size_t cap = 0;
        st = kv_push(x, &d->meters.opts, &d->meters.nopts, &cap, "path", file, n->line, n->col);
    } else {
        if ((st = want_map(x, n, path)) != PS_OK)
            return st;
        st = parse_ref_ex(x, n, path, &d->meters, "csvfile", "column");
        const ps_ynode *c = ps_ynode_get(n, "column");
        if (st == PS_OK && c && !ps_ynode_is_null(c)) {
            char sub[300];
            pathf(sub, sizeof sub, "%s.column", path);
            st = nonempty(x, c, sub, &d->meters_column);
            if (st == PS_OK && strlen(d->meters_column) > 256)
                st = cerr(x, c, sub, "column name is longer than 256 bytes");
        }
    }
    return st;
}

static void ref_free(ps_plugin_ref *r)
{
    free(r->plugin);
    for (size_t i = 0; i < r->nopts; i++) {
        free(r->opts[i].key);
        free(r->opts[i].value);
    }
    free(r->opts);
}

/* ---- top-level sections ---------------------------------------------------------------- */

static ps_status parse_plugin_path(cctx *x, const ps_ynode *n)
{
    char **raw = NULL;
    size_t nraw = 0;
    ps_status st = str_list(x, n, "plugin_path", &raw, &nraw);
    ps_config *c = x->c;
    if (st == PS_OK && nraw > 0) {
        c->plugin_path = calloc(nraw, sizeof *c->plugin_path);
        if (!c->plugin_path)
            st = oom(x);
    }
    for (size_t i = 0; st == PS_OK && i < nraw; i++) {
        c->plugin_path[i] = ps_path_resolve(x->dir, raw[i]);
        if (!c->plugin_path[i])
            st = oom(x);
        else
            c->nplugin_path++;
    }
    for (size_t i = 0; i < nraw; i++)
        free(raw[i]);
    free(raw);
    return st;
}

static ps_status parse_sinks(cctx *x, const ps_ynode *n)
{
    ps_status st = want_map(x, n, "sinks");
    if (st != PS_OK)
        return st;
    ps_config *c = x->c;
    c->sinks = calloc(n->n / 2 + 1, sizeof *c->sinks);
    if (!c->sinks)
        return oom(x);
    for (size_t i = 0; i < n->n; i += 2) {
        const ps_ynode *k = n->kids[i];
        char path[300];
        pathf(path, sizeof path, "sinks.%s", k->s);
        if (!name_ok(k->s, 1))
            return cerr(x, k, path, "sink name '%s' must be letters, digits, '_', '-' or '.'",
                        k->s);
        ps_sink_def *s = &c->sinks[c->nsinks++];
        if (!(s->name = strdup(k->s)))
            return oom(x);
        if ((st = parse_ref(x, n->kids[i + 1], path, &s->ref)) != PS_OK)
            return st;
    }
    return PS_OK;
}

static const char *const dataset_keys[] = {"name",     "type",     "target",        "profile",
                                           "source",   "mapping",  "sinks",         "rejects",
                                           "warnings", "schedule", "verify_meters", "max_vanished"};
static const char *const mapping_keys[] = {
    "columns", "defaults", "timestamp", "transaction_types", "phone_country_code",
    "country", "filters", "extract"};
static const char *const timestamp_keys[] = {"formats", "utc_offset", "time_zone"};
static const char *const target_keys[] = {"level", "id"};
static const char *const target_levels[] = {"project", "program"};
static const char *const profiles[] = {"standard", "strict"};
static const char *const dataset_types[] = {"electricity_payments"};
static const char *const tx_types[] = {
    "FULL_PAYMENT", "INSTALLMENT_PAYMENT", "NON_CONTRACT_PAYMENT", "DISCOUNT",
    "REVERSAL",     "ENERGY_CREDIT"};

/* value must be one of cands; returns its index. */
static ps_status enum_of(cctx *x, const ps_ynode *n, const char *path, const char *const *cands,
                         size_t nc, int *idx)
{
    char *v;
    *idx = 0; /* written on every path: callers read it only after PS_OK */
    ps_status st = nonempty(x, n, path, &v);
    if (st != PS_OK)
        return st;
    for (size_t i = 0; i < nc; i++) {
        if (strcmp(v, cands[i]) == 0) {
            *idx = (int)i;
            free(v);
            return PS_OK;
        }
    }
    char h[128], list[256] = "";
    for (size_t i = 0; i < nc; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, cands[i], sizeof list - strlen(list) - 1);
    }
    st = cerr(x, n, path, "'%s' is not valid%s; expected one of: %s", v,
              hint(h, sizeof h, v, cands, nc), list);
    free(v);
    return st;
}

static const char *const *field_names(void)
{
    static const char *names[PS_FIELD_COUNT];
    for (int i = 0; i < PS_FIELD_COUNT; i++)
        names[i] = ps_field_name(i);
    return names;
}

/* A model field name (normalised); *canon gets the canonical spelling. */
static ps_status field_of(cctx *x, const ps_ynode *n, const char *text, const char *path,
                          const char **canon)
{
    int f = ps_field_lookup(text, strlen(text));
    if (f >= 0 && ps_field_name(f)) {
        *canon = ps_field_name(f);
        return PS_OK;
    }
    char h[128];
    return cerr(x, n, path, "'%s' is not a field of the data model%s", text,
                hint(h, sizeof h, text, field_names(), PS_FIELD_COUNT));
}

static ps_status parse_columns(cctx *x, const ps_ynode *n, const char *path, ps_dataset_def *d)
{
    ps_status st = want_map(x, n, path);
    size_t cap = 0;
    for (size_t i = 0; st == PS_OK && i < n->n; i += 2) {
        const ps_ynode *k = n->kids[i], *v = n->kids[i + 1];
        char sub[400], *val;
        pathf(sub, sizeof sub, "%s.\"%s\"", path, k->s);
        size_t col;
        if (ps_column_ref(k->s, &col) < 0) {
            st = cerr(x, k, sub,
                      "'%s' is not a column reference: write \"@\" and the column's letters "
                      "(\"@D\", up to \"@ZZZ\") or its position (\"@4\", 1 to %d); a header "
                      "that itself begins with \"@\" is written \"@@...\"",
                      k->s, PS_COLUMN_MAX);
            break;
        }
        if ((st = nonempty(x, v, sub, &val)) != PS_OK)
            break;
        const char *canon;
        st = field_of(x, v, val, sub, &canon);
        free(val);
        if (st != PS_OK)
            break;
        char *cv = strdup(canon);
        if (!cv)
            return oom(x);
        st = kv_push(x, &d->columns, &d->ncolumns, &cap, k->s, cv, k->line, k->col);
    }
    return st;
}

static ps_status parse_defaults(cctx *x, const ps_ynode *n, const char *path, ps_dataset_def *d)
{
    ps_status st = want_map(x, n, path);
    size_t cap = 0;
    for (size_t i = 0; st == PS_OK && i < n->n; i += 2) {
        const ps_ynode *k = n->kids[i], *v = n->kids[i + 1];
        char sub[400], *val;
        pathf(sub, sizeof sub, "%s.%s", path, k->s);
        const char *canon;
        if ((st = field_of(x, k, k->s, sub, &canon)) != PS_OK)
            break;
        for (size_t j = 0; j < d->ndefaults; j++)
            if (strcmp(d->defaults[j].key, canon) == 0)
                return cerr(x, k, sub, "field %s already has a default (line %d)", canon,
                            d->defaults[j].line);
        if ((st = scalar(x, v, sub, &val)) != PS_OK)
            break;
        st = kv_push(x, &d->defaults, &d->ndefaults, &cap, canon, val, k->line, k->col);
    }
    return st;
}

static ps_status parse_txtypes(cctx *x, const ps_ynode *n, const char *path, ps_dataset_def *d)
{
    ps_status st = want_map(x, n, path);
    size_t cap = 0;
    for (size_t i = 0; st == PS_OK && i < n->n; i += 2) {
        const ps_ynode *k = n->kids[i], *v = n->kids[i + 1];
        char sub[400];
        pathf(sub, sizeof sub, "%s.%s", path, k->s);
        int idx;
        if ((st = enum_of(x, v, sub, tx_types, NKEYS(tx_types), &idx)) != PS_OK)
            break;
        char *cv = strdup(tx_types[idx]);
        if (!cv)
            return oom(x);
        st = kv_push(x, &d->txtype_aliases, &d->ntxtype_aliases, &cap, k->s, cv, k->line, k->col);
    }
    return st;
}

static int utc_offset_ok(const char *s)
{
    /* [+-]hh:mm, hh <= 14, mm < 60 */
    if (strlen(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':')
        return 0;
    if (!isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]) ||
        !isdigit((unsigned char)s[4]) || !isdigit((unsigned char)s[5]))
        return 0;
    int h = (s[1] - '0') * 10 + (s[2] - '0'), m = (s[4] - '0') * 10 + (s[5] - '0');
    return h <= 14 && m < 60;
}

static int zone_ok(const char *s)
{
    if (!s[0] || strlen(s) > 64 || s[0] == '/' || strstr(s, ".."))
        return 0;
    for (const char *p = s; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr("/_+-", *p)))
            return 0;
    return 1;
}

static ps_status parse_timestamp(cctx *x, const ps_ynode *n, const char *path, ps_dataset_def *d)
{
    ps_status st = want_map(x, n, path);
    if (st == PS_OK)
        st = check_keys(x, n, path, timestamp_keys, NKEYS(timestamp_keys));
    if (st != PS_OK)
        return st;
    char sub[400];
    const ps_ynode *v;
    if ((v = ps_ynode_get(n, "formats")) && !ps_ynode_is_null(v)) {
        pathf(sub, sizeof sub, "%s.formats", path);
        if ((st = str_list(x, v, sub, &d->ts_formats, &d->n_ts_formats)) != PS_OK)
            return st;
    }
    const ps_ynode *off = ps_ynode_get(n, "utc_offset"), *tz = ps_ynode_get(n, "time_zone");
    if (off && tz)
        return cerr(x, tz, path, "set either 'utc_offset' or 'time_zone', not both");
    if (off) {
        pathf(sub, sizeof sub, "%s.utc_offset", path);
        if ((st = nonempty(x, off, sub, &d->utc_offset)) != PS_OK)
            return st;
        if (!utc_offset_ok(d->utc_offset))
            return cerr(x, off, sub, "'%s' is not an offset like \"+01:00\" or \"-05:30\"",
                        d->utc_offset);
    }
    if (tz) {
        pathf(sub, sizeof sub, "%s.time_zone", path);
        if ((st = nonempty(x, tz, sub, &d->time_zone)) != PS_OK)
            return st;
        if (!zone_ok(d->time_zone))
            return cerr(x, tz, sub, "'%s' is not an IANA time zone name like Africa/Lagos",
                        d->time_zone);
    }
    return PS_OK;
}

/* ---- mapping.filters and mapping.extract --------------------------------------------- */

/* Operator keys, in ps_filter_op order. */
static const char *const filter_ops[] = {"equals", "not_equals", "in",
                                         "not_in", "matches",    "not_matches"};
static const char *const filter_keys[] = {"column",     "field",       "equals",
                                          "not_equals", "in",          "not_in",
                                          "matches",    "not_matches", "case_insensitive"};
static const char *const extract_keys[] = {"column", "pattern", "fields", "case_insensitive"};

const char *ps_filter_op_name(ps_filter_op op)
{
    return (unsigned)op < NKEYS(filter_ops) ? filter_ops[op] : "?";
}

static ps_status bool_of(cctx *x, const ps_ynode *n, const char *path, int *out)
{
    char *v;
    ps_status st = nonempty(x, n, path, &v);
    if (st != PS_OK)
        return st;
    if (strcasecmp(v, "true") == 0)
        *out = 1;
    else if (strcasecmp(v, "false") == 0)
        *out = 0;
    else
        st = cerr(x, n, path, "'%s' is not valid; expected true or false", v);
    free(v);
    return st;
}

/* Compiles pattern to check it; the caller frees *re (or passes NULL to drop it). */
static ps_status check_regex(cctx *x, const ps_ynode *n, const char *path, const char *pattern,
                             int ci, ps_regex **re)
{
    ps_error e = {0};
    ps_regex *r = NULL;
    if (ps_regex_compile(pattern, ci, &r, &e) != PS_OK)
        return e.code == PS_ERR_NOMEM ? oom(x) : cerr(x, n, path, "%s", e.message);
    if (re)
        *re = r;
    else
        ps_regex_free(r);
    return PS_OK;
}

/* `column:` or `field:` of a filter or extract rule. */
static ps_status rule_source(cctx *x, const ps_ynode *n, const char *path, char **column,
                             int *field, int *line, int *col, int need_column)
{
    const ps_ynode *c = ps_ynode_get(n, "column"),
                   *f = need_column ? NULL : ps_ynode_get(n, "field");
    char sub[500];
    if (c && f)
        return cerr(x, f, path, "set either 'column' or 'field', not both");
    if (!c && !f)
        return cerr(x, n, path,
                    need_column ? "missing key 'column' (the source column to read)"
                                : "missing key 'column' or 'field' (what the filter reads: a "
                                  "source column, or a model field)");
    const ps_ynode *w = c ? c : f;
    *line = w->line;
    *col = w->col;
    pathf(sub, sizeof sub, "%s.%s", path, c ? "column" : "field");
    if (c)
        return nonempty(x, c, sub, column);
    char *v;
    ps_status st = nonempty(x, f, sub, &v);
    if (st != PS_OK)
        return st;
    const char *canon;
    st = field_of(x, f, v, sub, &canon);
    free(v);
    if (st == PS_OK)
        *field = ps_field_lookup(canon, strlen(canon));
    return st;
}

static ps_status parse_filter(cctx *x, const ps_ynode *n, const char *path, ps_filter_def *fd)
{
    fd->field = -1;
    ps_status st = want_map(x, n, path);
    if (st == PS_OK)
        st = check_keys(x, n, path, filter_keys, NKEYS(filter_keys));
    if (st != PS_OK)
        return st;
    fd->line = n->line;
    fd->col = n->col;
    if ((st = rule_source(x, n, path, &fd->column, &fd->field, &fd->what_line, &fd->what_col, 0)) !=
        PS_OK)
        return st;
    char sub[500];
    const ps_ynode *ci = ps_ynode_get(n, "case_insensitive");
    if (ci && !ps_ynode_is_null(ci)) {
        pathf(sub, sizeof sub, "%s.case_insensitive", path);
        if ((st = bool_of(x, ci, sub, &fd->case_insensitive)) != PS_OK)
            return st;
    }
    const ps_ynode *opn = NULL;
    for (size_t i = 0; i < NKEYS(filter_ops); i++) {
        const ps_ynode *v = ps_ynode_get(n, filter_ops[i]);
        if (!v || ps_ynode_is_null(v))
            continue;
        if (opn)
            return cerr(x, v, path,
                        "set one operator per filter, found '%s' and '%s' (write two "
                        "filters: every filter must hold)",
                        filter_ops[fd->op], filter_ops[i]);
        opn = v;
        fd->op = (ps_filter_op)i;
    }
    if (!opn)
        return cerr(x, n, path,
                    "missing an operator: one of equals, not_equals, in, not_in, matches, "
                    "not_matches");
    pathf(sub, sizeof sub, "%s.%s", path, filter_ops[fd->op]);
    size_t cap = 0;
    switch (fd->op) {
    case PS_FILTER_IN:
    case PS_FILTER_NOT_IN: {
        const ps_ynode *const *items = &opn;
        size_t count = 1;
        if (opn->type == PS_Y_SEQ) {
            items = (const ps_ynode *const *)opn->kids;
            count = opn->n;
        }
        if (count == 0)
            return cerr(x, opn, sub, "the list is empty");
        for (size_t i = 0; i < count; i++) {
            char *v;
            if ((st = scalar(x, items[i], sub, &v)) != PS_OK)
                return st;
            if (grow((void **)&fd->values, &cap, fd->nvalues, sizeof *fd->values) != 0) {
                free(v);
                return oom(x);
            }
            fd->values[fd->nvalues++] = v;
        }
        return PS_OK;
    }
    default: {
        char *v;
        if (opn->type == PS_Y_SEQ)
            return cerr(x, opn, sub, "expected a single value, found a list (use 'in' for a list)");
        if ((st = scalar(x, opn, sub, &v)) != PS_OK)
            return st;
        if (!(fd->values = malloc(sizeof *fd->values))) {
            free(v);
            return oom(x);
        }
        fd->values[0] = v;
        fd->nvalues = 1;
        if (fd->op == PS_FILTER_MATCHES || fd->op == PS_FILTER_NOT_MATCHES)
            return check_regex(x, opn, sub, v, fd->case_insensitive, NULL);
        return PS_OK;
    }
    }
}

static ps_status parse_filters(cctx *x, const ps_ynode *n, const char *path, ps_dataset_def *d)
{
    if (n->type != PS_Y_SEQ)
        return cerr(x, n, path,
                    "expected a list of filters (- {column: Status, equals: success}), found %s",
                    ps_ynode_kind(n));
    if (!(d->filters = calloc(n->n + 1, sizeof *d->filters)))
        return oom(x);
    for (size_t i = 0; i < n->n; i++) {
        char sub[450];
        pathf(sub, sizeof sub, "%s[%zu]", path, i);
        d->nfilters++;
        ps_status st = parse_filter(x, n->kids[i], sub, &d->filters[i]);
        if (st != PS_OK)
            return st;
    }
    return PS_OK;
}

static ps_status parse_extract_rule(cctx *x, const ps_ynode *n, const char *path, ps_dataset_def *d,
                                    ps_extract_def *ed)
{
    ps_status st = want_map(x, n, path);
    if (st == PS_OK)
        st = check_keys(x, n, path, extract_keys, NKEYS(extract_keys));
    if (st != PS_OK)
        return st;
    ed->line = n->line;
    ed->col = n->col;
    int unused = -1;
    if ((st = rule_source(x, n, path, &ed->column, &unused, &ed->column_line, &ed->column_col,
                          1)) != PS_OK)
        return st;
    char sub[500];
    const ps_ynode *ci = ps_ynode_get(n, "case_insensitive");
    if (ci && !ps_ynode_is_null(ci)) {
        pathf(sub, sizeof sub, "%s.case_insensitive", path);
        if ((st = bool_of(x, ci, sub, &ed->case_insensitive)) != PS_OK)
            return st;
    }
    const ps_ynode *pn = ps_ynode_get(n, "pattern");
    if (!pn)
        return cerr(x, n, path,
                    "missing key 'pattern' (a regular expression whose groups fill "
                    "fields)");
    pathf(sub, sizeof sub, "%s.pattern", path);
    if ((st = nonempty(x, pn, sub, &ed->pattern)) != PS_OK)
        return st;
    ps_regex *re = NULL;
    if ((st = check_regex(x, pn, sub, ed->pattern, ed->case_insensitive, &re)) != PS_OK)
        return st;
    int filled[PS_FIELD_COUNT] = {0};
    const ps_ynode *fl = ps_ynode_get(n, "fields");
    if (fl && !ps_ynode_is_null(fl)) {
        char **names = NULL;
        size_t nn = 0;
        pathf(sub, sizeof sub, "%s.fields", path);
        st = str_list(x, fl, sub, &names, &nn);
        if (st == PS_OK && nn > ps_regex_groups(re))
            st = cerr(x, fl, sub, "%zu fields but the pattern has %u capture group%s", nn,
                      ps_regex_groups(re), ps_regex_groups(re) == 1 ? "" : "s");
        if (st == PS_OK && !(ed->fields = calloc(nn + 1, sizeof *ed->fields)))
            st = oom(x);
        for (size_t i = 0; st == PS_OK && i < nn; i++) {
            const ps_ynode *item = fl->type == PS_Y_SEQ ? fl->kids[i] : fl;
            const char *canon;
            if ((st = field_of(x, item, names[i], sub, &canon)) != PS_OK)
                break;
            ed->fields[i] = ps_field_lookup(canon, strlen(canon));
            ed->nfields++;
            if (filled[ed->fields[i]]++)
                st = cerr(x, item, sub, "field %s is listed twice", canon);
        }
        for (size_t i = 0; i < nn; i++)
            free(names[i]);
        free(names);
    } else if (ps_regex_names(re) == 0) {
        st = cerr(x, pn, sub,
                  "the pattern has no named groups ((?<METER_ID>...)) and there is no 'fields' "
                  "list for its numbered groups");
    } else {
        for (size_t i = 0; st == PS_OK && i < ps_regex_names(re); i++) {
            const char *name = ps_regex_name_at(re, i, NULL);
            int f = ps_field_lookup(name, strlen(name));
            char h[128];
            if (f < 0)
                st = cerr(x, pn, sub, "group name '%s' is not a field of the data model%s", name,
                          hint(h, sizeof h, name, field_names(), PS_FIELD_COUNT));
            else if (filled[f]++)
                st = cerr(x, pn, sub, "two groups fill field %s", ps_field_name(f));
        }
    }
    ps_regex_free(re);
    /* A field filled by two extract rules would make one of them win silently. */
    for (int f = 0; st == PS_OK && f < PS_FIELD_COUNT; f++) {
        if (!filled[f])
            continue;
        for (size_t k = 0; k < d->nextracts - 1; k++) {
            const ps_extract_def *o = &d->extracts[k];
            int also = 0;
            if (o->fields) {
                for (size_t j = 0; j < o->nfields; j++)
                    also |= o->fields[j] == f;
            } else {
                ps_regex *r2 = NULL;
                ps_error e = {0};
                if (ps_regex_compile(o->pattern, o->case_insensitive, &r2, &e) == PS_OK) {
                    for (size_t j = 0; j < ps_regex_names(r2); j++) {
                        const char *nm = ps_regex_name_at(r2, j, NULL);
                        also |= ps_field_lookup(nm, strlen(nm)) == f;
                    }
                }
                ps_regex_free(r2);
            }
            if (also)
                st = cerr(x, n, path, "field %s is already filled by extract[%zu] (line %d)",
                          ps_field_name(f), k, o->line);
        }
    }
    return st;
}

static ps_status parse_extract(cctx *x, const ps_ynode *n, const char *path, ps_dataset_def *d)
{
    if (n->type != PS_Y_SEQ)
        return cerr(x, n, path,
                    "expected a list of rules (- {column: Details, pattern: \"...\"}), found %s",
                    ps_ynode_kind(n));
    if (!(d->extracts = calloc(n->n + 1, sizeof *d->extracts)))
        return oom(x);
    for (size_t i = 0; i < n->n; i++) {
        char sub[450];
        pathf(sub, sizeof sub, "%s[%zu]", path, i);
        d->nextracts++;
        ps_status st = parse_extract_rule(x, n->kids[i], sub, d, &d->extracts[i]);
        if (st != PS_OK)
            return st;
    }
    return PS_OK;
}

static ps_status parse_mapping(cctx *x, const ps_ynode *n, const char *path, ps_dataset_def *d)
{
    ps_status st = want_map(x, n, path);
    if (st == PS_OK)
        st = check_keys(x, n, path, mapping_keys, NKEYS(mapping_keys));
    char sub[400];
    for (size_t i = 0; st == PS_OK && i < n->n; i += 2) {
        const ps_ynode *k = n->kids[i], *v = n->kids[i + 1];
        pathf(sub, sizeof sub, "%s.%s", path, k->s);
        if (ps_ynode_is_null(v))
            continue;
        if (strcmp(k->s, "columns") == 0) {
            st = parse_columns(x, v, sub, d);
        } else if (strcmp(k->s, "defaults") == 0) {
            st = parse_defaults(x, v, sub, d);
        } else if (strcmp(k->s, "timestamp") == 0) {
            st = parse_timestamp(x, v, sub, d);
        } else if (strcmp(k->s, "transaction_types") == 0) {
            st = parse_txtypes(x, v, sub, d);
        } else if (strcmp(k->s, "country") == 0) {
            if ((st = nonempty(x, v, sub, &d->country)) != PS_OK)
                break;
            /* the phone module's rules (libphonenumber), with this file's location */
            char *p = d->country;
            if (ps_phone_calling_code(p) == 0) {
                st = cerr(x, v, sub,
                          "'%s' is not an ISO 3166 alpha-2 country code with a telephone "
                          "numbering plan (e.g. NG)",
                          p);
                break;
            }
            p[0] = (char)toupper((unsigned char)p[0]);
            p[1] = (char)toupper((unsigned char)p[1]);
        } else if (strcmp(k->s, "filters") == 0) {
            st = parse_filters(x, v, sub, d);
        } else if (strcmp(k->s, "extract") == 0) {
            st = parse_extract(x, v, sub, d);
        } else { /* phone_country_code */
            char region[3];
            if ((st = nonempty(x, v, sub, &d->phone_country_code)) != PS_OK)
                break;
            char *p = d->phone_country_code;
            if (p[0] == '+')
                memmove(p, p + 1, strlen(p));
            if (ps_phone_region_for_code(p, region) != 0)
                st = cerr(x, v, sub,
                          "'%s' is not a country calling code (1-3 digits, e.g. \"234\")", p);
        }
    }
    return st;
}

/* See config.h: scalar -> {kind: S}; mapping -> kind = first key, then every scalar entry and
 * every entry of nested mappings, flattened. */
static ps_status parse_schedule(cctx *x, const ps_ynode *n, const char *path, ps_dataset_def *d)
{
    size_t cap = 0;
    ps_status st;
    char *v;
    if (n->type == PS_Y_SCALAR) {
        if ((st = nonempty(x, n, path, &v)) != PS_OK)
            return st;
        return kv_push(x, &d->schedule, &d->nschedule, &cap, "kind", v, n->line, n->col);
    }
    if (n->type != PS_Y_MAP || n->n == 0)
        return cerr(x, n, path,
                    "expected a value (daily, hourly, \"0 2 * * *\") or a mapping like "
                    "{every: 6h}, found %s",
                    ps_ynode_kind(n));
    if (!(v = strdup(n->kids[0]->s)))
        return oom(x);
    if ((st = kv_push(x, &d->schedule, &d->nschedule, &cap, "kind", v, n->kids[0]->line,
                      n->kids[0]->col)) != PS_OK)
        return st;
    char sub[400];
    for (size_t i = 0; i < n->n; i += 2) {
        const ps_ynode *k = n->kids[i], *val = n->kids[i + 1];
        pathf(sub, sizeof sub, "%s.%s", path, k->s);
        const ps_ynode *const *keys = &k, *const *vals = &val;
        size_t cnt = 1, step = 0;
        if (val->type == PS_Y_MAP && val->n == 0) {
            return cerr(x, val, sub, "expected a value or a mapping with keys, found {}");
        } else if (val->type == PS_Y_MAP) {
            keys = (const ps_ynode *const *)val->kids;
            vals = (const ps_ynode *const *)val->kids + 1;
            cnt = val->n / 2;
            step = 1;
        } else if (val->type == PS_Y_SCALAR && ps_ynode_is_null(val) && i == 0) {
            continue; /* {hourly: } */
        }
        for (size_t j = 0; j < cnt; j++) {
            const ps_ynode *kk = keys[j * (step + 1)], *vv = vals[j * (step + 1)];
            char sub2[500];
            pathf(sub2, sizeof sub2, "%s%s%s", sub, step ? "." : "", step ? kk->s : "");
            if (strcmp(kk->s, "kind") == 0)
                return cerr(x, kk, sub2, "'kind' is implied by the first key");
            for (size_t m = 0; m < d->nschedule; m++)
                if (strcmp(d->schedule[m].key, kk->s) == 0)
                    return cerr(x, kk, sub2, "'%s' given twice", kk->s);
            if ((st = scalar(x, vv, sub2, &v)) != PS_OK)
                return st;
            if ((st = kv_push(x, &d->schedule, &d->nschedule, &cap, kk->s, v, kk->line, kk->col)) !=
                PS_OK)
                return st;
        }
    }
    return PS_OK;
}

static ps_status parse_target(cctx *x, const ps_ynode *n, const char *path, ps_dataset_def *d)
{
    ps_status st = want_map(x, n, path);
    if (st == PS_OK)
        st = check_keys(x, n, path, target_keys, NKEYS(target_keys));
    if (st != PS_OK)
        return st;
    char sub[400];
    const ps_ynode *lv = ps_ynode_get(n, "level"), *id = ps_ynode_get(n, "id");
    d->target_level = PS_TARGET_PROJECT;
    if (lv) {
        int idx;
        pathf(sub, sizeof sub, "%s.level", path);
        if ((st = enum_of(x, lv, sub, target_levels, NKEYS(target_levels), &idx)) != PS_OK)
            return st;
        d->target_level = idx == 1 ? PS_TARGET_PROGRAM : PS_TARGET_PROJECT;
    }
    if (!id)
        return cerr(x, n, path, "missing key 'id' (the project or program id)");
    pathf(sub, sizeof sub, "%s.id", path);
    return nonempty(x, id, sub, &d->target_id);
}

static ps_status parse_dataset(cctx *x, const ps_ynode *n, size_t idx, ps_dataset_def *d)
{
    char path[300], sub[400];
    pathf(path, sizeof path, "datasets[%zu]", idx);
    ps_status st = want_map(x, n, path);
    if (st == PS_OK)
        st = check_keys(x, n, path, dataset_keys, NKEYS(dataset_keys));
    if (st != PS_OK)
        return st;
    d->line = n->line;
    d->col = n->col;
    const ps_ynode *v = ps_ynode_get(n, "name");
    if (!v)
        return cerr(x, n, path, "missing key 'name'");
    pathf(sub, sizeof sub, "%s.name", path);
    if ((st = nonempty(x, v, sub, &d->name)) != PS_OK)
        return st;
    if (!name_ok(d->name, 2))
        return cerr(x, v, sub,
                    "dataset name '%s' must be letters, digits, spaces, '_', '-' or '.' (at most "
                    "128, no leading or trailing space)",
                    d->name);
    for (size_t i = 0; i < idx; i++)
        if (strcmp(x->c->datasets[i].name, d->name) == 0)
            return cerr(x, v, sub, "duplicate dataset name '%s' (first at line %d)", d->name,
                        x->c->datasets[i].line);
    pathf(path, sizeof path, "datasets[%s]", d->name);

    v = ps_ynode_get(n, "type");
    if (v && !ps_ynode_is_null(v)) {
        int t;
        pathf(sub, sizeof sub, "%s.type", path);
        if ((st = enum_of(x, v, sub, dataset_types, NKEYS(dataset_types), &t)) != PS_OK)
            return st;
    }
    if (!(d->type = strdup("electricity_payments")))
        return oom(x);

    pathf(sub, sizeof sub, "%s.target", path);
    if (!(v = ps_ynode_get(n, "target")))
        return cerr(x, n, path,
                    "missing key 'target' (e.g. target: {level: project, id: site-001})");
    if ((st = parse_target(x, v, sub, d)) != PS_OK)
        return st;

    d->profile = PS_PROFILE_STANDARD;
    if ((v = ps_ynode_get(n, "profile")) && !ps_ynode_is_null(v)) {
        int p;
        pathf(sub, sizeof sub, "%s.profile", path);
        if ((st = enum_of(x, v, sub, profiles, NKEYS(profiles), &p)) != PS_OK)
            return st;
        d->profile = p == 1 ? PS_PROFILE_STRICT : PS_PROFILE_STANDARD;
    }

    pathf(sub, sizeof sub, "%s.source", path);
    if (!(v = ps_ynode_get(n, "source")))
        return cerr(x, n, path, "missing key 'source' (e.g. source: {plugin: csvfile, path: ...})");
    if ((st = parse_ref(x, v, sub, &d->source)) != PS_OK)
        return st;

    if ((v = ps_ynode_get(n, "mapping")) && !ps_ynode_is_null(v)) {
        pathf(sub, sizeof sub, "%s.mapping", path);
        if ((st = parse_mapping(x, v, sub, d)) != PS_OK)
            return st;
    }

    pathf(sub, sizeof sub, "%s.sinks", path);
    if (!(v = ps_ynode_get(n, "sinks")) || ps_ynode_is_null(v))
        return cerr(x, v ? v : n, path, "missing key 'sinks' (names of sinks under 'sinks:')");
    if ((st = str_list(x, v, sub, &d->sinks, &d->nsinks)) != PS_OK)
        return st;
    const char **snames = calloc(x->c->nsinks + 1, sizeof *snames);
    if (!snames)
        return oom(x);
    for (size_t i = 0; i < x->c->nsinks; i++)
        snames[i] = x->c->sinks[i].name;
    for (size_t i = 0; st == PS_OK && i < d->nsinks; i++) {
        const ps_ynode *item = v->type == PS_Y_SEQ ? v->kids[i] : v;
        char h[128];
        if (!ps_config_sink(x->c, d->sinks[i]))
            st = cerr(x, item, sub, "unknown sink '%s'%s", d->sinks[i],
                      x->c->nsinks ? hint(h, sizeof h, d->sinks[i], snames, x->c->nsinks)
                                   : " (no sinks are defined under 'sinks:')");
        for (size_t j = 0; st == PS_OK && j < i; j++)
            if (strcmp(d->sinks[i], d->sinks[j]) == 0)
                st = cerr(x, item, sub, "sink '%s' listed twice", d->sinks[i]);
    }
    free(snames);
    if (st != PS_OK)
        return st;

    if ((v = ps_ynode_get(n, "verify_meters")) && !ps_ynode_is_null(v)) {
        pathf(sub, sizeof sub, "%s.verify_meters", path);
        if ((st = parse_meters(x, v, sub, d)) != PS_OK)
            return st;
    }

    static const char *const pathkeys[] = {"rejects", "warnings"};
    for (int i = 0; i < 2; i++) {
        char **dst = i == 0 ? &d->rejects : &d->warnings;
        if (!(v = ps_ynode_get(n, pathkeys[i])) || ps_ynode_is_null(v))
            continue;
        char *raw;
        pathf(sub, sizeof sub, "%s.%s", path, pathkeys[i]);
        if ((st = nonempty(x, v, sub, &raw)) != PS_OK)
            return st;
        *dst = ps_path_resolve(x->dir, raw);
        free(raw);
        if (!*dst)
            return oom(x);
    }

    if ((v = ps_ynode_get(n, "max_vanished"))) {
        char *raw = NULL, why[200];
        pathf(sub, sizeof sub, "%s.max_vanished", path);
        if ((st = nonempty(x, v, sub, &raw)) != PS_OK)
            return st;
        if (ps_vanish_limit_parse(raw, &d->max_vanished, why, sizeof why) != 0)
            st = cerr(x, v, sub, "'%s' is not valid: %s", raw, why);
        free(raw);
        if (st != PS_OK)
            return st;
    }

    if ((v = ps_ynode_get(n, "schedule")) && !ps_ynode_is_null(v)) {
        pathf(sub, sizeof sub, "%s.schedule", path);
        if ((st = parse_schedule(x, v, sub, d)) != PS_OK)
            return st;
        ps_schedule sched;
        if ((st = ps_schedule_parse(d->schedule, d->nschedule, d->name, x->file, sub, &sched,
                                    x->err)) != PS_OK)
            return st;
    }
    return PS_OK;
}

static ps_status parse_datasets(cctx *x, const ps_ynode *n)
{
    if (n->type != PS_Y_SEQ)
        return cerr(x, n, "datasets", "expected a list of datasets (- name: ...), found %s",
                    ps_ynode_kind(n));
    ps_config *c = x->c;
    c->datasets = calloc(n->n + 1, sizeof *c->datasets);
    if (!c->datasets)
        return oom(x);
    for (size_t i = 0; i < n->n; i++) {
        c->ndatasets++;
        ps_status st = parse_dataset(x, n->kids[i], i, &c->datasets[i]);
        if (st != PS_OK)
            return st;
    }
    return PS_OK;
}

static const char *const serve_keys[] = {"listen", "store", "keys"};
static const char *const serve_key_keys[] = {"name", "key_sha256", "datasets"};

static ps_status parse_serve_key(cctx *x, const ps_ynode *n, size_t idx, ps_serve_key *k)
{
    char path[300], sub[400];
    pathf(path, sizeof path, "serve.keys[%zu]", idx);
    ps_status st = want_map(x, n, path);
    if (st == PS_OK)
        st = check_keys(x, n, path, serve_key_keys, NKEYS(serve_key_keys));
    if (st != PS_OK)
        return st;
    const ps_ynode *v;
    if (!(v = ps_ynode_get(n, "name")))
        return cerr(x, n, path, "missing key 'name'");
    pathf(sub, sizeof sub, "%s.name", path);
    if ((st = nonempty(x, v, sub, &k->name)) != PS_OK)
        return st;
    for (size_t i = 0; i < idx; i++)
        if (strcmp(x->c->serve.keys[i].name, k->name) == 0)
            return cerr(x, v, sub, "duplicate key name '%s'", k->name);
    if (!(v = ps_ynode_get(n, "key_sha256")))
        return cerr(x, n, path,
                    "missing key 'key_sha256' (the SHA-256 hex of the API key: "
                    "printf %%s KEY | sha256sum)");
    pathf(sub, sizeof sub, "%s.key_sha256", path);
    if ((st = nonempty(x, v, sub, &k->key_sha256)) != PS_OK)
        return st;
    int ok = strlen(k->key_sha256) == 64;
    for (char *p = k->key_sha256; ok && *p; p++) {
        ok = isxdigit((unsigned char)*p);
        *p = (char)tolower((unsigned char)*p);
    }
    if (!ok)
        return cerr(x, v, sub, "expected 64 hexadecimal digits (printf %%s KEY | sha256sum)");
    if (!(v = ps_ynode_get(n, "datasets")))
        return cerr(x, n, path, "missing key 'datasets' (dataset names, or \"*\" for all)");
    pathf(sub, sizeof sub, "%s.datasets", path);
    if ((st = str_list(x, v, sub, &k->datasets, &k->ndatasets)) != PS_OK)
        return st;
    const char **names = calloc(x->c->ndatasets + 1, sizeof *names);
    if (!names)
        return oom(x);
    for (size_t i = 0; i < x->c->ndatasets; i++)
        names[i] = x->c->datasets[i].name;
    for (size_t i = 0; st == PS_OK && i < k->ndatasets; i++) {
        const ps_ynode *item = v->type == PS_Y_SEQ ? v->kids[i] : v;
        char h[160];
        if (strcmp(k->datasets[i], "*") != 0 && !ps_config_dataset(x->c, k->datasets[i]))
            st = cerr(x, item, sub, "unknown dataset '%s'%s", k->datasets[i],
                      hint(h, sizeof h, k->datasets[i], names, x->c->ndatasets));
    }
    free(names);
    return st;
}

static ps_status parse_serve(cctx *x, const ps_ynode *n)
{
    ps_status st = want_map(x, n, "serve");
    if (st != PS_OK)
        return st;
    ps_serve_def *s = &x->c->serve;
    s->present = 1;
    size_t lcap = 0;
    char sub[400];
    const ps_ynode *store = NULL, *keys = NULL;
    for (size_t i = 0; i < n->n; i += 2) {
        const ps_ynode *k = n->kids[i], *v = n->kids[i + 1];
        pathf(sub, sizeof sub, "serve.%s", k->s);
        if (strcmp(k->s, "listen") == 0) {
            if ((st = nonempty(x, v, sub, &s->listen)) != PS_OK)
                return st;
        } else if (strcmp(k->s, "store") == 0) {
            store = v;
        } else if (strcmp(k->s, "keys") == 0) {
            keys = v;
        } else {
            char h[128];
            const char *hs = hint(h, sizeof h, k->s, serve_keys, NKEYS(serve_keys));
            if (hs[0] || v->type != PS_Y_SCALAR)
                return cerr(x, k, sub, "unknown key '%s'%s", k->s, hs);
            char *val;
            if ((st = scalar(x, v, sub, &val)) != PS_OK)
                return st;
            if ((st = kv_push(x, &s->limits, &s->nlimits, &lcap, k->s, val, k->line, k->col)) !=
                PS_OK)
                return st;
        }
    }
    if (!s->listen && !(s->listen = strdup("127.0.0.1:8080")))
        return oom(x);
    if (store) {
        if ((st = nonempty(x, store, "serve.store", &s->store)) != PS_OK)
            return st;
        if (!ps_config_sink(x->c, s->store)) {
            const char **sn = calloc(x->c->nsinks + 1, sizeof *sn);
            if (!sn)
                return oom(x);
            for (size_t i = 0; i < x->c->nsinks; i++)
                sn[i] = x->c->sinks[i].name;
            char h[128];
            st = cerr(x, store, "serve.store", "unknown sink '%s'%s", s->store,
                      hint(h, sizeof h, s->store, sn, x->c->nsinks));
            free(sn);
            return st;
        }
    } else {
        const ps_sink_def *only = NULL;
        int count = 0;
        for (size_t i = 0; i < x->c->nsinks; i++)
            if (ps_store_kind_known(x->c->sinks[i].ref.plugin)) {
                only = &x->c->sinks[i];
                count++;
            }
        if (count != 1)
            return cerr(x, n, "serve",
                        "missing key 'store' (the name of the %s sink to serve from)",
                        ps_store_kinds());
        if (!(s->store = strdup(only->name)))
            return oom(x);
    }
    if (keys && !ps_ynode_is_null(keys)) {
        if (keys->type != PS_Y_SEQ)
            return cerr(x, keys, "serve.keys",
                        "expected a list of {name, key_sha256, datasets}, found %s",
                        ps_ynode_kind(keys));
        s->keys = calloc(keys->n + 1, sizeof *s->keys);
        if (!s->keys)
            return oom(x);
        for (size_t i = 0; i < keys->n; i++) {
            s->nkeys++;
            if ((st = parse_serve_key(x, keys->kids[i], i, &s->keys[i])) != PS_OK)
                return st;
        }
    }
    return PS_OK;
}

/* ---- secrets ------------------------------------------------------------------------ */

static int secret_key_name(const char *k)
{
    char low[128];
    size_t l = strlen(k);
    if (l >= sizeof low)
        l = sizeof low - 1;
    for (size_t i = 0; i < l; i++)
        low[i] = (char)tolower((unsigned char)k[i]);
    low[l] = '\0';
    if (strstr(low, "secret") || strstr(low, "token") || strstr(low, "password") ||
        strstr(low, "private_key") || strstr(low, "service_account_json"))
        return 1;
    return strcmp(low, "key") == 0 || (l > 4 && strcmp(low + l - 4, "_key") == 0);
}

static int has_secret_keys(const ps_ynode *n)
{
    if (!n)
        return 0;
    if (n->type == PS_Y_MAP) {
        for (size_t i = 0; i + 1 < n->n; i += 2) {
            const ps_ynode *v = n->kids[i + 1];
            if (secret_key_name(n->kids[i]->s) && v->type == PS_Y_SCALAR && !ps_ynode_is_null(v))
                return 1;
            if (has_secret_keys(v))
                return 1;
        }
    } else if (n->type == PS_Y_SEQ) {
        for (size_t i = 0; i < n->n; i++)
            if (has_secret_keys(n->kids[i]))
                return 1;
    }
    return 0;
}

/* ---- entry points -------------------------------------------------------------------- */

static const char *const top_keys[] = {"plugin_path", "sinks", "datasets", "serve"};

static ps_status build(cctx *x, const ps_ynode *root)
{
    ps_status st = want_map(x, root, "top level");
    if (st == PS_OK)
        st = check_keys(x, root, "top level", top_keys, NKEYS(top_keys));
    if (st != PS_OK)
        return st;
    const ps_ynode *v;
    if ((v = ps_ynode_get(root, "plugin_path")) && !ps_ynode_is_null(v) &&
        (st = parse_plugin_path(x, v)) != PS_OK)
        return st;
    if ((v = ps_ynode_get(root, "sinks")) && !ps_ynode_is_null(v) &&
        (st = parse_sinks(x, v)) != PS_OK)
        return st;
    if ((v = ps_ynode_get(root, "datasets")) && !ps_ynode_is_null(v) &&
        (st = parse_datasets(x, v)) != PS_OK)
        return st;
    if ((v = ps_ynode_get(root, "serve")) && !ps_ynode_is_null(v) &&
        (st = parse_serve(x, v)) != PS_OK)
        return st;
    return PS_OK;
}

static ps_status load_common(const char *yaml, size_t len, const char *name, const char *dir,
                             ps_config **out, int *secretish, ps_error *err)
{
    *out = NULL;
    ps_ynode *root = NULL;
    ps_status st = ps_yaml_parse(yaml, len, name, &root, err);
    if (st != PS_OK)
        return st;
    ps_config *c = calloc(1, sizeof *c);
    if (!c) {
        ps_ynode_free(root);
        return ps_error_setf(err, PS_ERR_NOMEM, "%s: out of memory", PS_SHOWN(name));
    }
    c->path = strdup(name);
    c->dir = strdup(dir && dir[0] ? dir : ".");
    cctx x = {name, c->dir, c, err, 0};
    if (!c->path || !c->dir)
        st = oom(&x);
    else
        st = build(&x, root);
    if (st == PS_OK && secretish)
        *secretish = x.uses_env || has_secret_keys(root);
    ps_ynode_free(root);
    if (st != PS_OK) {
        ps_config_free(c);
        return st;
    }
    *out = c;
    return PS_OK;
}

ps_status ps_config_load_string(const char *yaml, size_t len, const char *name, const char *dir,
                                ps_config **out, ps_error *err)
{
    if (!yaml || !out)
        return ps_error_setf(err, PS_ERR_USAGE, "ps_config_load_string: NULL argument");
    return load_common(yaml, len, name ? name : "<config>", dir, out, NULL, err);
}

ps_status ps_config_load(const char *path, ps_config **out, ps_error *err)
{
    if (!path || !out)
        return ps_error_setf(err, PS_ERR_USAGE, "ps_config_load: NULL argument");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ps_error_setf(err, PS_ERR_CONFIG, "%s: cannot open: %s", PS_SHOWN(path),
                             strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return ps_error_setf(err, PS_ERR_CONFIG, "%s: not a regular file", PS_SHOWN(path));
    }
    if (sb.st_size > PS_YAML_MAX_BYTES) {
        close(fd);
        return ps_error_setf(err, PS_ERR_CONFIG, "%s: file is %lld bytes, the limit is %d",
                             PS_SHOWN(path), (long long)sb.st_size, PS_YAML_MAX_BYTES);
    }
    size_t cap = (size_t)sb.st_size + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return ps_error_setf(err, PS_ERR_NOMEM, "%s: out of memory", PS_SHOWN(path));
    }
    for (;;) {
        if (len == cap) { /* grew while reading: allow up to the limit */
            if (cap > PS_YAML_MAX_BYTES) {
                free(buf);
                close(fd);
                return ps_error_setf(err, PS_ERR_CONFIG, "%s: file is over the limit of %d bytes",
                                     PS_SHOWN(path), PS_YAML_MAX_BYTES);
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                close(fd);
                return ps_error_setf(err, PS_ERR_NOMEM, "%s: out of memory", PS_SHOWN(path));
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return ps_error_setf(err, PS_ERR_IO, "%s: read failed: %s", PS_SHOWN(path),
                                 strerror(e));
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);

    /* The folder holding the file, made absolute when possible. */
    char *dir = strdup(path);
    if (!dir) {
        free(buf);
        return ps_error_setf(err, PS_ERR_NOMEM, "%s: out of memory", PS_SHOWN(path));
    }
    char *slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    char real[PATH_MAX];
    const char *usedir = realpath(dir, real) ? real : dir;

    int secretish = 0;
    ps_status st = load_common(buf, len, path, usedir, out, &secretish, err);
    free(buf);
    free(dir);
    if (st == PS_OK)
        (*out)->has_secrets_world_readable = secretish && (sb.st_mode & S_IROTH) != 0;
    return st;
}

void ps_config_free(ps_config *c)
{
    if (!c)
        return;
    free(c->path);
    free(c->dir);
    for (size_t i = 0; i < c->nplugin_path; i++)
        free(c->plugin_path[i]);
    free(c->plugin_path);
    for (size_t i = 0; i < c->nsinks; i++) {
        free(c->sinks[i].name);
        ref_free(&c->sinks[i].ref);
    }
    free(c->sinks);
    for (size_t i = 0; i < c->ndatasets; i++) {
        ps_dataset_def *d = &c->datasets[i];
        free(d->name);
        free(d->type);
        free(d->target_id);
        ref_free(&d->source);
        ref_free(&d->meters);
        free(d->meters_column);
        ps_kv *lists[] = {d->columns, d->defaults, d->txtype_aliases, d->schedule};
        size_t counts[] = {d->ncolumns, d->ndefaults, d->ntxtype_aliases, d->nschedule};
        for (int l = 0; l < 4; l++) {
            for (size_t j = 0; j < counts[l]; j++) {
                free(lists[l][j].key);
                free(lists[l][j].value);
            }
            free(lists[l]);
        }
        for (size_t j = 0; j < d->n_ts_formats; j++)
            free(d->ts_formats[j]);
        free(d->ts_formats);
        free(d->utc_offset);
        free(d->time_zone);
        free(d->phone_country_code);
        free(d->country);
        for (size_t j = 0; j < d->nfilters; j++) {
            free(d->filters[j].column);
            for (size_t k = 0; k < d->filters[j].nvalues; k++)
                free(d->filters[j].values[k]);
            free(d->filters[j].values);
        }
        free(d->filters);
        for (size_t j = 0; j < d->nextracts; j++) {
            free(d->extracts[j].column);
            free(d->extracts[j].pattern);
            free(d->extracts[j].fields);
        }
        free(d->extracts);
        for (size_t j = 0; j < d->nsinks; j++)
            free(d->sinks[j]);
        free(d->sinks);
        free(d->rejects);
        free(d->warnings);
    }
    free(c->datasets);
    ps_serve_def *s = &c->serve;
    free(s->listen);
    free(s->store);
    for (size_t i = 0; i < s->nkeys; i++) {
        free(s->keys[i].name);
        free(s->keys[i].key_sha256);
        for (size_t j = 0; j < s->keys[i].ndatasets; j++)
            free(s->keys[i].datasets[j]);
        free(s->keys[i].datasets);
    }
    free(s->keys);
    for (size_t i = 0; i < s->nlimits; i++) {
        free(s->limits[i].key);
        free(s->limits[i].value);
    }
    free(s->limits);
    free(c);
}

const ps_sink_def *ps_config_sink(const ps_config *c, const char *name)
{
    if (!c || !name)
        return NULL;
    for (size_t i = 0; i < c->nsinks; i++)
        if (c->sinks[i].name && strcmp(c->sinks[i].name, name) == 0)
            return &c->sinks[i];
    return NULL;
}

const ps_dataset_def *ps_config_dataset(const ps_config *c, const char *name)
{
    if (!c || !name)
        return NULL;
    for (size_t i = 0; i < c->ndatasets; i++)
        if (c->datasets[i].name && strcmp(c->datasets[i].name, name) == 0)
            return &c->datasets[i];
    return NULL;
}

ps_status ps_config_check_schedules(const ps_config *cfg, ps_error *err)
{
    for (size_t i = 0; cfg && i < cfg->ndatasets; i++) {
        const ps_dataset_def *d = &cfg->datasets[i];
        if (d->nschedule == 0)
            continue;
        char path[200];
        snprintf(path, sizeof path, "datasets[%.128s].schedule", d->name ? d->name : "?");
        ps_schedule s;
        ps_status st =
            ps_schedule_parse(d->schedule, d->nschedule, d->name, cfg->path, path, &s, err);
        if (st != PS_OK)
            return st;
    }
    return PS_OK;
}
