/* paysync core: the typed option engine (options.h). */
#include "plugin/options.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/duration.h"
#include "util/size.h"

typedef struct opt_val {
    char *value; /* as set (path resolved, enum canonical) or the default; NULL when neither */
    int64_t num; /* parsed value (ps_option_check) */
    int set;
} opt_val;

struct ps_options {
    ps_option_spec *specs; /* normalized copy of the table */
    size_t n;
    opt_val *v;
};

/* ---- tables ------------------------------------------------------------------------------ */

size_t ps_descriptor_option_stride(const ps_plugin_descriptor *d)
{
    if (!d || d->struct_size < offsetof(ps_plugin_descriptor, option_spec_size) + sizeof(size_t))
        return 0;
    return d->option_spec_size;
}

static const ps_option_spec *entry_ptr(const ps_option_spec *t, size_t stride, size_t i)
{
    return (const ps_option_spec *)(const void *)((const char *)t +
                                                  i * (stride ? stride : sizeof *t));
}

size_t ps_option_table_len(const ps_option_spec *t, size_t stride)
{
    size_t n = 0;
    /* name is the first member: readable at every stride */
    while (t && n <= PS_MAX_OPTIONS && entry_ptr(t, stride, n)->name)
        n++;
    return n;
}

void ps_option_entry(const ps_option_spec *t, size_t stride, size_t i, ps_option_spec *out)
{
    size_t len = stride && stride < sizeof *out ? stride : sizeof *out;
    memset(out, 0, sizeof *out);
    memcpy(out, entry_ptr(t, stride, i), len);
}

const char *ps_option_type_name(ps_option_type t)
{
    switch (t) {
    case PS_OPT_STRING:
        return "string";
    case PS_OPT_INT:
        return "int";
    case PS_OPT_BOOL:
        return "bool";
    case PS_OPT_PATH:
        return "path";
    case PS_OPT_ENUM:
        return "enum";
    case PS_OPT_DURATION:
        return "duration";
    case PS_OPT_SIZE:
        return "size";
    }
    return NULL;
}

static int numeric(ps_option_type t)
{
    return t == PS_OPT_INT || t == PS_OPT_DURATION || t == PS_OPT_SIZE;
}

int ps_option_spec_check(const ps_option_spec *s, char *msg, size_t cap)
{
    if (!ps_option_type_name(s->type)) {
        snprintf(msg, cap,
                 "type %d is unknown, expected 1 (string), 2 (int), 3 (bool), 4 (path), 5 (enum), "
                 "6 (duration) or 7 (size)",
                 (int)s->type);
        return -1;
    }
    if ((s->required != 0 && s->required != 1) || (s->secret != 0 && s->secret != 1)) {
        snprintf(msg, cap, "required and secret must be 0 or 1");
        return -1;
    }
    unsigned known = PS_OPTF_RANGE | PS_OPTF_PLAIN_SECONDS | PS_OPTF_PLAIN_MS;
    if (s->flags & ~known) {
        snprintf(msg, cap, "flags 0x%x has unknown bits (known: 0x%x)", s->flags, known);
        return -1;
    }
    if ((s->flags & PS_OPTF_RANGE) && !numeric(s->type)) {
        snprintf(msg, cap, "min/max flags are only for int, duration and size options");
        return -1;
    }
    if ((s->flags & PS_OPTF_RANGE) == PS_OPTF_RANGE && s->min > s->max) {
        snprintf(msg, cap, "min %lld is above max %lld", (long long)s->min, (long long)s->max);
        return -1;
    }
    unsigned plain = s->flags & (PS_OPTF_PLAIN_SECONDS | PS_OPTF_PLAIN_MS);
    if (plain &&
        (s->type != PS_OPT_DURATION || plain == (PS_OPTF_PLAIN_SECONDS | PS_OPTF_PLAIN_MS))) {
        snprintf(msg, cap,
                 "PS_OPTF_PLAIN_SECONDS or PS_OPTF_PLAIN_MS (not both) is only for "
                 "duration options");
        return -1;
    }
    if (s->type == PS_OPT_ENUM) {
        size_t n = 0;
        while (s->choices && n <= PS_MAX_CHOICES && s->choices[n])
            n++;
        if (n == 0 || n > PS_MAX_CHOICES) {
            snprintf(msg, cap, "an enum needs 1 to %d choices in a NULL-terminated list",
                     PS_MAX_CHOICES);
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            if (!s->choices[i][0]) {
                snprintf(msg, cap, "choices[%zu] is empty", i);
                return -1;
            }
            for (size_t j = 0; j < i; j++)
                if (strcasecmp(s->choices[i], s->choices[j]) == 0) {
                    snprintf(msg, cap, "choices[%zu] '%s' repeats choices[%zu]", i, s->choices[i],
                             j);
                    return -1;
                }
        }
    } else if (s->choices) {
        snprintf(msg, cap, "choices are only for enum options");
        return -1;
    }
    if (s->default_value && ps_option_check(s, NULL, s->default_value, NULL, NULL, NULL, 0) != 0) {
        char allowed[400];
        ps_option_describe(s, allowed, sizeof allowed);
        snprintf(msg, cap, "default_value '%s' is not a valid %s (must be %s)",
                 s->secret ? "***" : s->default_value, ps_option_type_name(s->type), allowed);
        return -1;
    }
    return 0;
}

/* ---- parsing and describing values ----------------------------------------------------- */

int ps_option_parse_int(const char *s, long long *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    if (out)
        *out = v;
    return 0;
}

int ps_option_parse_bool(const char *s, int *out)
{
    static const char *const t[] = {"true", "yes", "on", "1"}, *const f[] = {"false", "no", "off",
                                                                             "0"};
    if (!s)
        return -1;
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, t[i]) == 0) {
            if (out)
                *out = 1;
            return 0;
        }
        if (strcasecmp(s, f[i]) == 0) {
            if (out)
                *out = 0;
            return 0;
        }
    }
    return -1;
}

/* A bound in the option's unit. */
static void fmt_value(const ps_option_spec *s, int64_t v, char *buf, size_t cap)
{
    if (s->type == PS_OPT_DURATION)
        ps_duration_format_exact(v, buf, cap);
    else if (s->type == PS_OPT_SIZE)
        ps_size_format(v, buf, cap);
    else
        snprintf(buf, cap, "%lld", (long long)v);
}

static void append(char *buf, size_t cap, const char *fmt, const char *a, const char *b)
{
    size_t l = strlen(buf);
    if (l < cap)
        snprintf(buf + l, cap - l, fmt, a, b);
}

void ps_option_bounds(const ps_option_spec *s, char *buf, size_t cap)
{
    char lo[48], hi[48];
    if (cap == 0)
        return;
    buf[0] = '\0';
    if (s->type == PS_OPT_ENUM) {
        for (size_t i = 0; s->choices && i < PS_MAX_CHOICES && s->choices[i]; i++)
            append(buf, cap, "%s%s", i ? "|" : "", s->choices[i]);
        return;
    }
    if (!numeric(s->type))
        return;
    fmt_value(s, s->min, lo, sizeof lo);
    fmt_value(s, s->max, hi, sizeof hi);
    switch (s->flags & PS_OPTF_RANGE) {
    case PS_OPTF_RANGE:
        snprintf(buf, cap, "%s..%s", lo, hi);
        break;
    case PS_OPTF_MIN:
        snprintf(buf, cap, ">= %s", lo);
        break;
    case PS_OPTF_MAX:
        snprintf(buf, cap, "<= %s", hi);
        break;
    }
}

void ps_option_describe(const ps_option_spec *s, char *buf, size_t cap)
{
    char lo[48], hi[48], range[120] = "";
    if (cap == 0)
        return;
    buf[0] = '\0';
    fmt_value(s, s->min, lo, sizeof lo);
    fmt_value(s, s->max, hi, sizeof hi);
    switch (numeric(s->type) ? s->flags & PS_OPTF_RANGE : 0) {
    case PS_OPTF_RANGE:
        snprintf(range, sizeof range, " from %s to %s", lo, hi);
        break;
    case PS_OPTF_MIN:
        snprintf(range, sizeof range, " of at least %s", lo);
        break;
    case PS_OPTF_MAX:
        snprintf(range, sizeof range, " of at most %s", hi);
        break;
    }
    switch (s->type) {
    case PS_OPT_INT:
        snprintf(buf, cap, "a whole number%s", range);
        break;
    case PS_OPT_DURATION:
        snprintf(buf, cap, "a duration%s (units ms, s, m, h, d, e.g. 500ms, 90s, 1h30m%s)", range,
                 s->flags & PS_OPTF_PLAIN_SECONDS ? "; a plain number means seconds"
                 : s->flags & PS_OPTF_PLAIN_MS    ? "; a plain number means milliseconds"
                                                  : "");
        break;
    case PS_OPT_SIZE:
        snprintf(buf, cap,
                 "a size%s (bytes, or with a unit: 64KiB or 64k = 64x1024, 10MB = 10x1000000)",
                 range);
        break;
    case PS_OPT_BOOL:
        snprintf(buf, cap, "true or false (yes/no, on/off, 1/0)");
        break;
    case PS_OPT_ENUM:
        snprintf(buf, cap, "one of: ");
        for (size_t i = 0; s->choices && i < PS_MAX_CHOICES && s->choices[i]; i++)
            append(buf, cap, "%s%s", i ? ", " : "", s->choices[i]);
        break;
    case PS_OPT_PATH:
        snprintf(buf, cap, "a path");
        break;
    default:
        snprintf(buf, cap, "text");
        break;
    }
}

/* Parses text per type into *v; why gets a syntax reason (may stay NULL). */
static int parse_typed(const ps_option_spec *s, const char *text, int64_t *v, const char **canon,
                       const char **why)
{
    *canon = text;
    *v = 0;
    switch (s->type) {
    case PS_OPT_INT: {
        long long n;
        if (ps_option_parse_int(text, &n) != 0)
            return -1;
        *v = n;
        return 0;
    }
    case PS_OPT_BOOL: {
        int b;
        if (ps_option_parse_bool(text, &b) != 0)
            return -1;
        *v = b;
        return 0;
    }
    case PS_OPT_DURATION: {
        unsigned plain = s->flags & (PS_OPTF_PLAIN_SECONDS | PS_OPTF_PLAIN_MS);
        size_t digits = strspn(text, "0123456789");
        if (plain && digits > 0 && !text[digits]) {
            long long n;
            int64_t unit = plain == PS_OPTF_PLAIN_SECONDS ? 1000 : 1;
            if (digits > 15 || ps_option_parse_int(text, &n) != 0 ||
                n > PS_DURATION_MAX_MS / unit) {
                *why = "duration is too long (at most ten years)";
                return -1;
            }
            *v = (int64_t)n * unit;
            return 0;
        }
        return ps_duration_parse(text, 1, v, why);
    }
    case PS_OPT_SIZE:
        return ps_size_parse(text, v, why);
    case PS_OPT_ENUM:
        for (size_t i = 0; s->choices && i < PS_MAX_CHOICES && s->choices[i]; i++)
            if (strcasecmp(text, s->choices[i]) == 0) {
                *v = (int64_t)i;
                *canon = s->choices[i];
                return 0;
            }
        return -1;
    case PS_OPT_PATH:
        if (!text[0]) {
            *why = "";
            return -1;
        }
        return 0;
    default:
        return 0;
    }
}

int ps_option_check(const ps_option_spec *s, const char *noun, const char *text, int64_t *value,
                    const char **canon, char *msg, size_t cap)
{
    const char *why = NULL, *c = NULL;
    int64_t v = 0;
    if (!text)
        text = "";
    if (!noun)
        noun = "option";
    const char *shown = s->secret ? "***" : text;
    int rc = parse_typed(s, text, &v, &c, &why);
    if (rc == 0 && numeric(s->type) &&
        (((s->flags & PS_OPTF_MIN) && v < s->min) || ((s->flags & PS_OPTF_MAX) && v > s->max)))
        rc = -1, why = NULL;
    if (rc != 0) {
        if (msg && cap) {
            if (s->type == PS_OPT_PATH) {
                snprintf(msg, cap, "%s '%s' must be a path, got an empty value", noun, s->name);
            } else {
                char allowed[400];
                ps_option_describe(s, allowed, sizeof allowed);
                snprintf(msg, cap, "%s '%s' must be %s, got '%.200s'%s%s%s", noun, s->name, allowed,
                         shown, why ? " (" : "", why ? why : "", why ? ")" : "");
            }
        }
        return -1;
    }
    if (value)
        *value = v;
    if (canon)
        *canon = c;
    return 0;
}

/* ---- building an option set ----------------------------------------------------------- */

void ps_options_free(ps_options *o)
{
    if (!o)
        return;
    for (size_t i = 0; o->v && i < o->n; i++)
        free(o->v[i].value);
    free(o->v);
    free(o->specs);
    free(o);
}

static ps_status where_err(ps_error *err, const char *file, int line, int col, const char *ctx,
                           const char *msg)
{
    if (line > 0)
        return ps_error_setf(err, PS_ERR_CONFIG, "%s:%d:%d: %s: %s", file, line, col, ctx, msg);
    return ps_error_setf(err, PS_ERR_CONFIG, "%s: %s: %s", file, ctx, msg);
}

/* "unknown option 'k' for plugin 'p' (did you mean 'x'?); valid options: a, b" */
static void unknown_msg(const ps_option_source *src, const ps_options *o, const char *key,
                        const char *noun, char *msg, size_t cap)
{
    const char *names[PS_MAX_OPTIONS + 1];
    char list[600] = "", h[160] = "", owner[120] = "";
    size_t k = 0;
    for (; k < o->n; k++) {
        names[k] = o->specs[k].name;
        append(list, sizeof list, "%s%s", k ? ", " : "", names[k]);
    }
    if (src->also_valid && src->also_valid[0]) {
        char tmp[600];
        snprintf(tmp, sizeof tmp, "%s%s%s", src->also_valid, k ? ", " : "", list);
        snprintf(list, sizeof list, "%s", tmp);
    }
    const char *sug = ps_suggest(key, names, o->n);
    if (sug)
        snprintf(h, sizeof h, " (did you mean '%s'?)", sug);
    if (src->plugin)
        snprintf(owner, sizeof owner, " for plugin '%s'", src->plugin);
    snprintf(msg, cap, "unknown %s '%s'%s%s; valid %ss: %s", noun, key, owner, h, noun,
             list[0] ? list : "(none)");
}

static ps_status set_value(ps_options *o, size_t j, const char *text, const char *dir,
                           const char *file, ps_error *err)
{
    const ps_option_spec *s = &o->specs[j];
    int64_t num = 0;
    const char *canon = text;
    ps_option_check(s, NULL, text, &num, &canon, NULL, 0);
    o->v[j].num = num;
    o->v[j].value = s->type == PS_OPT_PATH ? ps_path_resolve(dir, text) : strdup(canon);
    if (!o->v[j].value)
        return ps_error_setf(err, PS_ERR_NOMEM, "%s: out of memory", file);
    return PS_OK;
}

ps_status ps_options_parse(const ps_option_source *src, const ps_kv *kvs, size_t n,
                           ps_options **out, ps_error *err)
{
    *out = NULL;
    const char *file = src->file ? src->file : "<config>";
    const char *ctx = src->context ? src->context : src->plugin ? src->plugin : "options";
    const char *noun = src->noun ? src->noun : "option";
    ps_options *o = calloc(1, sizeof *o);
    if (!o)
        return ps_error_setf(err, PS_ERR_NOMEM, "%s: out of memory", file);
    o->n = ps_option_table_len(src->table, src->stride);
    if (o->n > PS_MAX_OPTIONS)
        o->n = PS_MAX_OPTIONS;
    o->v = calloc(o->n + 1, sizeof *o->v);
    o->specs = calloc(o->n + 1, sizeof *o->specs);
    if (!o->v || !o->specs) {
        ps_options_free(o);
        return ps_error_setf(err, PS_ERR_NOMEM, "%s: out of memory", file);
    }
    for (size_t j = 0; j < o->n; j++)
        ps_option_entry(src->table, src->stride, j, &o->specs[j]);
    char msg[1200];
    ps_status st = PS_OK;
    for (size_t i = 0; st == PS_OK && i < n; i++) {
        const ps_kv *kv = &kvs[i];
        size_t j;
        for (j = 0; j < o->n; j++)
            if (strcmp(o->specs[j].name, kv->key) == 0)
                break;
        if (j == o->n) {
            unknown_msg(src, o, kv->key, noun, msg, sizeof msg);
            st = where_err(err, file, kv->line, kv->col, ctx, msg);
            break;
        }
        const ps_option_spec *s = &o->specs[j];
        if (o->v[j].set) {
            snprintf(msg, sizeof msg, "%s '%s' given twice", noun, s->name);
            st = where_err(err, file, kv->line, kv->col, ctx, msg);
            break;
        }
        const char *value = kv->value ? kv->value : "";
        if (ps_option_check(s, noun, value, NULL, NULL, msg, sizeof msg) != 0) {
            st = where_err(err, file, kv->line, kv->col, ctx, msg);
            break;
        }
        if (s->required && value[0] == '\0') {
            snprintf(msg, sizeof msg, "%s '%s' must not be empty", noun, s->name);
            st = where_err(err, file, kv->line, kv->col, ctx, msg);
            break;
        }
        st = set_value(o, j, value, src->dir, file, err);
        o->v[j].set = 1;
    }
    for (size_t j = 0; st == PS_OK && j < o->n; j++) {
        const ps_option_spec *s = &o->specs[j];
        if (o->v[j].set)
            continue;
        if (s->required) {
            char owner[120] = "";
            if (src->plugin)
                snprintf(owner, sizeof owner, " for plugin '%s'", src->plugin);
            snprintf(msg, sizeof msg, "missing required %s '%s'%s%s%s%s", noun, s->name, owner,
                     s->description ? " (" : "", s->description ? s->description : "",
                     s->description ? ")" : "");
            st = where_err(err, file, src->line, src->col, ctx, msg);
            break;
        }
        if (s->default_value)
            st = set_value(o, j, s->default_value, src->dir, file, err);
    }
    if (st != PS_OK) {
        ps_options_free(o);
        return st;
    }
    *out = o;
    return PS_OK;
}

ps_status ps_options_build_at(const ps_plugin_descriptor *d, const ps_kv *kvs, size_t n,
                              const char *cfg_file, const char *cfg_dir, const char *context,
                              int line, int col, ps_options **out, ps_error *err)
{
    ps_option_source src = {.table = d->options,
                            .stride = ps_descriptor_option_stride(d),
                            .plugin = d->name,
                            .file = cfg_file,
                            .dir = cfg_dir,
                            .context = context,
                            .line = line,
                            .col = col};
    return ps_options_parse(&src, kvs, n, out, err);
}

ps_status ps_options_build(const ps_plugin_descriptor *d, const ps_kv *kvs, size_t n,
                           const char *cfg_file, const char *cfg_dir, const char *context,
                           ps_options **out, ps_error *err)
{
    return ps_options_build_at(d, kvs, n, cfg_file, cfg_dir, context, 0, 0, out, err);
}

ps_status ps_options_from_ref(const ps_plugin_descriptor *d, const ps_plugin_ref *ref,
                              const ps_config *cfg, const char *context, ps_options **out,
                              ps_error *err)
{
    return ps_options_build_at(d, ref->opts, ref->nopts, cfg ? cfg->path : NULL,
                               cfg ? cfg->dir : NULL, context, ref->line, ref->col, out, err);
}

/* ---- reading ------------------------------------------------------------------------------ */

static const opt_val *find(const ps_options *o, const char *name)
{
    if (!o || !name)
        return NULL;
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->specs[i].name, name) == 0)
            return &o->v[i];
    return NULL;
}

const char *ps_options_string(const ps_options *o, const char *name)
{
    const opt_val *v = find(o, name);
    return v ? v->value : NULL;
}

long long ps_options_int(const ps_options *o, const char *name)
{
    const opt_val *v = find(o, name);
    return v && v->value ? (long long)v->num : 0;
}

int ps_options_bool(const ps_options *o, const char *name)
{
    const opt_val *v = find(o, name);
    int r = 0;
    if (v && v->value && ps_option_parse_bool(v->value, &r) != 0)
        r = 0;
    return r;
}

int ps_options_is_set(const ps_options *o, const char *name)
{
    const opt_val *v = find(o, name);
    return v ? v->set : 0;
}

size_t ps_options_count(const ps_options *o)
{
    return o ? o->n : 0;
}

void ps_options_at(const ps_options *o, size_t i, const char **name, const char **value_redacted)
{
    if (!o || i >= o->n) {
        if (name)
            *name = NULL;
        if (value_redacted)
            *value_redacted = NULL;
        return;
    }
    if (name)
        *name = o->specs[i].name;
    if (value_redacted)
        *value_redacted = o->v[i].value && o->specs[i].secret ? "***" : o->v[i].value;
}
