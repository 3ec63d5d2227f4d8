/* paysync core: typed plugin options validated against a descriptor's table (loader.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plugin/loader.h"

#define PS_MAX_OPTIONS 256

typedef struct opt_val {
    char *value; /* as set (path resolved) or the default; NULL when neither */
    int set;
} opt_val;

struct ps_options {
    const ps_option_spec *specs;
    size_t n;
    opt_val *v;
};

size_t ps_option_table_len(const ps_option_spec *t)
{
    size_t n = 0;
    while (t && n <= PS_MAX_OPTIONS && t[n].name)
        n++;
    return n;
}

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
    }
    return NULL;
}

void ps_options_free(ps_options *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++)
        free(o->v[i].value);
    free(o->v);
    free(o);
}

static ps_status where_err(ps_error *err, const char *file, int line, int col, const char *ctx,
                           const char *msg)
{
    if (line > 0)
        return ps_error_setf(err, PS_ERR_CONFIG, "%s:%d:%d: %s: %s", file, line, col, ctx, msg);
    return ps_error_setf(err, PS_ERR_CONFIG, "%s: %s: %s", file, ctx, msg);
}

/* Checks value text against the option type; msg gets the complaint. */
static int type_ok(const ps_option_spec *s, const char *value, char *msg, size_t cap)
{
    const char *shown = s->secret ? "***" : value;
    if (s->type == PS_OPT_INT && ps_option_parse_int(value, NULL) != 0) {
        snprintf(msg, cap, "option '%s' must be a whole number, got '%s'", s->name, shown);
        return 0;
    }
    if (s->type == PS_OPT_BOOL && ps_option_parse_bool(value, NULL) != 0) {
        snprintf(msg, cap, "option '%s' must be true or false (yes/no, on/off, 1/0), got '%s'",
                 s->name, shown);
        return 0;
    }
    if (s->type == PS_OPT_PATH && value[0] == '\0') {
        snprintf(msg, cap, "option '%s' must be a path, got an empty value", s->name);
        return 0;
    }
    return 1;
}

ps_status ps_options_build_at(const ps_plugin_descriptor *d, const ps_kv *kvs, size_t n,
                              const char *cfg_file, const char *cfg_dir, const char *context,
                              int line, int col, ps_options **out, ps_error *err)
{
    *out = NULL;
    const char *file = cfg_file ? cfg_file : "<config>";
    const char *ctx = context ? context : d->name;
    ps_options *o = calloc(1, sizeof *o);
    if (!o)
        return ps_error_setf(err, PS_ERR_NOMEM, "%s: out of memory", file);
    o->specs = d->options;
    o->n = ps_option_table_len(d->options);
    o->v = calloc(o->n + 1, sizeof *o->v);
    if (!o->v) {
        ps_options_free(o);
        return ps_error_setf(err, PS_ERR_NOMEM, "%s: out of memory", file);
    }
    char msg[700];
    ps_status st = PS_OK;
    for (size_t i = 0; st == PS_OK && i < n; i++) {
        const ps_kv *kv = &kvs[i];
        size_t j;
        for (j = 0; j < o->n; j++)
            if (strcmp(o->specs[j].name, kv->key) == 0)
                break;
        if (j == o->n) {
            const char *names[PS_MAX_OPTIONS + 1];
            char list[400] = "";
            for (size_t k = 0; k < o->n; k++) {
                names[k] = o->specs[k].name;
                strncat(list, k ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, names[k], sizeof list - strlen(list) - 1);
            }
            const char *sug = ps_suggest(kv->key, names, o->n);
            char h[160] = "";
            if (sug)
                snprintf(h, sizeof h, " (did you mean '%s'?)", sug);
            snprintf(msg, sizeof msg, "unknown option '%s' for plugin '%s'%s; valid options: %s",
                     kv->key, d->name, h, o->n ? list : "(none)");
            st = where_err(err, file, kv->line, kv->col, ctx, msg);
            break;
        }
        const ps_option_spec *s = &o->specs[j];
        if (o->v[j].set) {
            snprintf(msg, sizeof msg, "option '%s' given twice", s->name);
            st = where_err(err, file, kv->line, kv->col, ctx, msg);
            break;
        }
        const char *value = kv->value ? kv->value : "";
        if (!type_ok(s, value, msg, sizeof msg)) {
            st = where_err(err, file, kv->line, kv->col, ctx, msg);
            break;
        }
        if (s->required && value[0] == '\0') {
            snprintf(msg, sizeof msg, "option '%s' must not be empty", s->name);
            st = where_err(err, file, kv->line, kv->col, ctx, msg);
            break;
        }
        o->v[j].value = s->type == PS_OPT_PATH ? ps_path_resolve(cfg_dir, value) : strdup(value);
        if (!o->v[j].value)
            st = ps_error_setf(err, PS_ERR_NOMEM, "%s: out of memory", file);
        o->v[j].set = 1;
    }
    for (size_t j = 0; st == PS_OK && j < o->n; j++) {
        const ps_option_spec *s = &o->specs[j];
        if (o->v[j].set)
            continue;
        if (s->required) {
            snprintf(msg, sizeof msg, "missing required option '%s' for plugin '%s'%s%s", s->name,
                     d->name, s->description ? " (" : "", s->description ? s->description : "");
            if (s->description)
                strncat(msg, ")", sizeof msg - strlen(msg) - 1);
            st = where_err(err, file, line, col, ctx, msg);
            break;
        }
        if (s->default_value) {
            o->v[j].value = s->type == PS_OPT_PATH ? ps_path_resolve(cfg_dir, s->default_value)
                                                   : strdup(s->default_value);
            if (!o->v[j].value)
                st = ps_error_setf(err, PS_ERR_NOMEM, "%s: out of memory", file);
        }
    }
    if (st != PS_OK) {
        ps_options_free(o);
        return st;
    }
    *out = o;
    return PS_OK;
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

static const opt_val *find(const ps_options *o, const char *name, const ps_option_spec **spec)
{
    if (!o || !name)
        return NULL;
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->specs[i].name, name) == 0) {
            if (spec)
                *spec = &o->specs[i];
            return &o->v[i];
        }
    return NULL;
}

const char *ps_options_string(const ps_options *o, const char *name)
{
    const opt_val *v = find(o, name, NULL);
    return v ? v->value : NULL;
}

long long ps_options_int(const ps_options *o, const char *name)
{
    const opt_val *v = find(o, name, NULL);
    long long r = 0;
    if (v && v->value && ps_option_parse_int(v->value, &r) != 0)
        r = 0;
    return r;
}

int ps_options_bool(const ps_options *o, const char *name)
{
    const opt_val *v = find(o, name, NULL);
    int r = 0;
    if (v && v->value && ps_option_parse_bool(v->value, &r) != 0)
        r = 0;
    return r;
}

int ps_options_is_set(const ps_options *o, const char *name)
{
    const opt_val *v = find(o, name, NULL);
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
