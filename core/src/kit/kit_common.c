/* paysync core: the conformance kit: instances, option rewriting, shared checks. */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kit/kit_checks.h"

void ps_kit_set(ps_kit_result *r, ps_kit_outcome o, const char *fmt, ...)
{
    r->outcome = o;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
}

static int looks_like_url_option(const char *name)
{
    return strstr(name, "url") != NULL || strstr(name, "endpoint") != NULL;
}

/* The option list the kit hands to the engine: the given ones, rewritten per mode, plus
 * path options the mode must set even when the config left them to their default. */
ps_status ps_kit_instance_new(const ps_kit_ctx *k, int mode, const char *dir, size_t *rewritten,
                              ps_kit_inst *out, ps_error *err)
{
    const ps_plugin_descriptor *d = k->desc;
    const ps_option_spec *t = d->options;
    size_t stride = ps_descriptor_option_stride(d);
    size_t nt = ps_option_table_len(t, stride);
    size_t cap = k->opts.nopts + nt;
    ps_kv *kvs = calloc(cap ? cap : 1, sizeof *kvs);
    char **owned = calloc(cap ? cap : 1, sizeof *owned);
    size_t n = 0, nowned = 0, nrw = 0;
    ps_status st = PS_OK;
    memset(out, 0, sizeof *out);
    if (!kvs || !owned) {
        st = ps_error_setf(err, PS_ERR_NOMEM, "kit: out of memory");
        goto done;
    }
    for (size_t i = 0; i < k->opts.nopts; i++)
        kvs[n++] = k->opts.opts[i];
    if (mode != PS_KIT_OPTS_AS_GIVEN) {
        for (size_t i = 0; i < nt; i++) {
            ps_option_spec spec; /* copied: the table's stride may differ from ours */
            ps_option_entry(t, stride, i, &spec);
            const ps_option_spec *s = &spec;
            const char *nv = NULL;
            int given = s->default_value != NULL;
            for (size_t j = 0; j < n && !given; j++)
                given = strcmp(kvs[j].key, s->name) == 0;
            /* A missing source: only options the source is read from (set or defaulted);
             * setting an unset one would only trip the plugin's option checks. */
            if (mode == PS_KIT_OPTS_MISSING_SOURCE && !given)
                continue;
            /* A sink's optional path that the config left unset and that has no default is a
             * feature left off (or an input such as a key file the config gives another way,
             * e.g. gsheet_writer's service_account_file beside service_account_json): setting it
             * would turn the feature on or trip the plugin's one-of checks. */
            if (mode == PS_KIT_OPTS_PATHS_IN && !given && !s->required)
                continue;
            char buf[4096];
            if (mode == PS_KIT_OPTS_MISSING_SOURCE && s->type == PS_OPT_PATH)
                nv = "/nonexistent/paysync-kit/missing-source";
            else if (mode == PS_KIT_OPTS_MISSING_SOURCE && s->type == PS_OPT_STRING &&
                     looks_like_url_option(s->name))
                nv = "http://127.0.0.1:9/"; /* discard port: connection refused */
            else if (mode == PS_KIT_OPTS_PATHS_IN && s->type == PS_OPT_PATH) {
                snprintf(buf, sizeof buf, "%s/%s", dir, s->name);
                nv = buf;
            }
            if (!nv)
                continue;
            char *copy = strdup(nv);
            if (!copy) {
                st = ps_error_setf(err, PS_ERR_NOMEM, "kit: out of memory");
                goto done;
            }
            owned[nowned++] = copy;
            size_t j = 0;
            while (j < n && strcmp(kvs[j].key, s->name) != 0)
                j++;
            if (j == n)
                kvs[n++] = (ps_kv){.key = (char *)s->name, .value = copy};
            else
                kvs[j].value = copy;
            nrw++;
        }
    }
    if (rewritten)
        *rewritten = nrw;
    char context[160];
    snprintf(context, sizeof context, "%s '%s'",
             d->kind == PS_PLUGIN_PROVIDER ? "provider" : "sink", d->name);
    st = ps_options_build(d, kvs, n, k->opts.cfg_file, k->opts.cfg_dir, context, &out->opts, err);
    if (st != PS_OK)
        goto done;
    out->env.name = d->name;
    out->env.mapping = NULL;
    out->ctx.struct_size = sizeof out->ctx;
    out->ctx.host = ps_host_get();
    out->ctx.env = &out->env;
    out->ctx.options = out->opts;
    out->ctx.instance_name = d->name;
    out->ctx.config_dir = k->opts.cfg_dir ? k->opts.cfg_dir : ".";
    st = d->create(&out->ctx, &out->inst, err);
    if (st == PS_OK && !out->inst)
        st = ps_error_setf(err, PS_ERR_PLUGIN,
                           "create returned PS_OK but no instance (inst is NULL)");
    if (st != PS_OK) {
        if (err && !err->message[0])
            ps_error_setf(err, st, "create failed (status %d) with an empty message", (int)st);
        ps_options_free(out->opts);
        out->opts = NULL;
        out->inst = NULL;
    }
done:
    for (size_t i = 0; i < nowned; i++)
        free(owned[i]);
    free(owned);
    free(kvs);
    return st;
}

void ps_kit_instance_free(const ps_kit_ctx *k, ps_kit_inst *in)
{
    if (in->inst)
        k->desc->destroy(in->inst);
    ps_options_free(in->opts);
    memset(in, 0, sizeof *in);
}

/* Options build from the given values (or the defaults); a missing required option is a
 * skip for every check, with the hint to pass a config. */
void ps_kit_check_options(ps_kit_ctx *k, ps_kit_result *r)
{
    /* Sinks get their path options from the kit (a temporary folder), so only the others
     * must come from the caller. */
    int mode = k->desc->kind == PS_PLUGIN_SINK ? PS_KIT_OPTS_PATHS_IN : PS_KIT_OPTS_AS_GIVEN;
    ps_kit_inst in;
    ps_error err = {0};
    char dir[] = "/tmp/paysync-kit-XXXXXX";
    if (!mkdtemp(dir)) {
        ps_kit_set(r, PS_KIT_FAIL, "kit: cannot create a temporary folder");
        return;
    }
    size_t n = ps_option_table_len(k->desc->options, ps_descriptor_option_stride(k->desc));
    size_t nset = k->opts.nopts;
    ps_status st = ps_kit_instance_new(k, mode, dir, NULL, &in, &err);
    if (st == PS_OK)
        ps_kit_instance_free(k, &in);
    ps_kit_rmtree(dir);
    if (st != PS_OK) {
        int missing = strstr(err.message, "missing required") != NULL;
        ps_kit_set(r, missing ? PS_KIT_SKIP : PS_KIT_FAIL, "%s%s", err.message,
                   missing ? " (pass --config CFG with --dataset NAME or --sink NAME)" : "");
        return;
    }
    ps_kit_set(r, PS_KIT_PASS, "%zu option%s in the table, %zu given; they build", n,
               n == 1 ? "" : "s", nset);
}

/* Three create/destroy cycles with the given options: no crash, no stale state. */
void ps_kit_check_create_destroy(ps_kit_ctx *k, ps_kit_result *r)
{
    char dir[] = "/tmp/paysync-kit-XXXXXX";
    if (!mkdtemp(dir)) {
        ps_kit_set(r, PS_KIT_FAIL, "kit: cannot create a temporary folder");
        return;
    }
    int mode = k->desc->kind == PS_PLUGIN_SINK ? PS_KIT_OPTS_PATHS_IN : PS_KIT_OPTS_AS_GIVEN;
    for (int i = 0; i < 3; i++) {
        ps_kit_inst in;
        ps_error err = {0};
        ps_status st = ps_kit_instance_new(k, mode, dir, NULL, &in, &err);
        if (st != PS_OK) {
            int skip = strstr(err.message, "missing required") != NULL;
            ps_kit_set(r, skip ? PS_KIT_SKIP : PS_KIT_FAIL, "cycle %d: %s", i + 1, err.message);
            ps_kit_rmtree(dir);
            return;
        }
        ps_kit_instance_free(k, &in);
    }
    ps_kit_rmtree(dir);
    ps_kit_set(r, PS_KIT_PASS, "3 cycles");
}

void ps_kit_rmtree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            struct stat st;
            if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
                ps_kit_rmtree(path);
            else
                unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}
