/* paysync core: config -> plugin instances. */
#include "engine/plan.h"

#include <stdlib.h>
#include <string.h>

#include "config/file_sinks.h"
#include "model/model_fields.h"
#include "plugin/connectors.h"

static ps_status create_instance(const ps_config *cfg, ps_registry *reg, const ps_plugin_ref *ref,
                                 ps_plugin_kind want, const char *context, const ps_plugin **plugin,
                                 ps_options **opts, ps_plugin_ctx *ctx, ps_env *env, void **inst,
                                 ps_error *err)
{
    ps_error e = {0};
    /* `plugin: NAME` without a plugin NAME: the rest provider with the manifest NAME.yaml */
    char *manifest = NULL;
    int conn = want == PS_PLUGIN_PROVIDER ? ps_connector_find(reg, ref->plugin, &manifest, &e) : 0;
    if (conn < 0)
        return ps_error_setf(err, e.code, "%s:%d:%d: %s: connector '%s': %s", cfg->path,
                             ref->line, ref->col, context, ref->plugin, e.message);
    ps_status st = ps_registry_find(reg, conn ? PS_CONNECTOR_PLUGIN : ref->plugin, plugin, &e);
    if (st != PS_OK) {
        free(manifest);
        return ps_error_setf(err, st, "%s:%d:%d: %s: plugin '%s': %s", cfg->path, ref->line,
                             ref->col, context, conn ? PS_CONNECTOR_PLUGIN : ref->plugin,
                             e.message);
    }
    const ps_plugin_descriptor *d = (*plugin)->desc;
    if (d->kind != want) {
        free(manifest);
        return ps_error_setf(err, PS_ERR_CONFIG, "%s:%d:%d: %s: plugin '%s' is a %s, not a %s",
                             cfg->path, ref->line, ref->col, context, ref->plugin,
                             d->kind == PS_PLUGIN_SINK ? "sink" : "provider",
                             want == PS_PLUGIN_SINK ? "sink" : "provider");
    }
    if (conn) {
        size_t n = 0;
        ps_kv *kvs = ps_connector_opts(ref->opts, ref->nopts, manifest, ref->line, ref->col, &n);
        st = kvs ? ps_options_build_at(d, kvs, n, cfg->path, cfg->dir, context, ref->line,
                                       ref->col, opts, err)
                 : ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        free(kvs);
        free(manifest);
    } else {
        st = ps_options_from_ref(d, ref, cfg, context, opts, err);
    }
    if (st != PS_OK)
        return st;
    ctx->struct_size = sizeof *ctx;
    ctx->host = ps_host_get();
    ctx->env = env;
    ctx->options = *opts;
    ctx->instance_name = env->name;
    ctx->config_dir = cfg->dir;
    st = d->create(ctx, inst, &e);
    if (st != PS_OK) {
        /* A plugin that cannot reach its file or store at creation fails the run (exit 1);
         * anything else it refuses is a configuration error (exit 2). */
        int runtime = st == PS_ERR_NOMEM || st == PS_ERR_IO || st == PS_ERR_SOURCE ||
                      st == PS_ERR_SINK || st == PS_ERR_NETWORK || st == PS_ERR_AUTH;
        return ps_error_setf(err, runtime ? st : PS_ERR_CONFIG, "%s: %s", context, e.message);
    }
    return PS_OK;
}

static int selected(const char *name, char *const *only, size_t nonly)
{
    if (nonly == 0)
        return 1;
    for (size_t i = 0; i < nonly; i++)
        if (strcmp(only[i], name) == 0)
            return 1;
    return 0;
}

static ps_status build_mapping(const ps_config *cfg, ps_ds_plan *p, ps_error *err)
{
    const ps_dataset_def *d = p->def;
    p->alias_header = calloc(d->ncolumns + 1, sizeof *p->alias_header);
    p->alias_field = calloc(d->ncolumns + 1, sizeof *p->alias_field);
    p->tx_from = calloc(d->ntxtype_aliases + 1, sizeof *p->tx_from);
    p->tx_to = calloc(d->ntxtype_aliases + 1, sizeof *p->tx_to);
    if (!p->alias_header || !p->alias_field || !p->tx_from || !p->tx_to)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < d->ncolumns; i++) {
        int f = ps_field_lookup(d->columns[i].value, strlen(d->columns[i].value));
        if (f < 0)
            return ps_error_setf(
                err, PS_ERR_CONFIG, "%s:%d:%d: dataset '%s': mapping.columns: '%s' is not a field",
                cfg->path, d->columns[i].line, d->columns[i].col, d->name, d->columns[i].value);
        p->alias_header[i] = d->columns[i].key;
        p->alias_field[i] = f;
    }
    for (size_t i = 0; i < d->ndefaults; i++) {
        int f = ps_field_lookup(d->defaults[i].key, strlen(d->defaults[i].key));
        if (f < 0)
            return ps_error_setf(
                err, PS_ERR_CONFIG, "%s:%d:%d: dataset '%s': mapping.defaults: '%s' is not a field",
                cfg->path, d->defaults[i].line, d->defaults[i].col, d->name, d->defaults[i].key);
        p->defaults[f] = d->defaults[i].value;
    }
    for (size_t i = 0; i < d->ntxtype_aliases; i++) {
        p->tx_from[i] = d->txtype_aliases[i].key;
        p->tx_to[i] = d->txtype_aliases[i].value;
    }
    p->mspec.alias_header = p->alias_header;
    p->mspec.alias_field = p->alias_field;
    p->mspec.n_aliases = d->ncolumns;
    p->mspec.defaults = p->defaults;
    p->mspec.profile = d->profile;
    ps_status rst = ps_rowfilter_new(cfg->path, d, &p->rowfilter, err);
    if (rst != PS_OK)
        return rst;
    ps_rowfilter_extracted(p->rowfilter, p->extracted);
    p->mspec.provided = p->extracted;
    const char *zone = d->time_zone ? d->time_zone : d->utc_offset;
    if (zone) {
        ps_error e = {0};
        if (ps_tz_load(zone, &p->zone, &e) != PS_OK)
            return ps_error_setf(err, PS_ERR_CONFIG, "%s:%d:%d: dataset '%s': %s", cfg->path,
                                 d->line, d->col, d->name, e.message);
        p->zone_is_iana = d->time_zone != NULL;
    }
    /* Check aliases and defaults now so that config errors surface before any run. */
    ps_validate_config vc;
    ps_plan_validate_config(p, NULL, &vc);
    ps_validator *v = NULL;
    ps_error e = {0};
    if (ps_validator_new(&vc, &v, &e) != PS_OK)
        return ps_error_setf(err, PS_ERR_CONFIG, "%s:%d:%d: dataset '%s': %s", cfg->path, d->line,
                             d->col, d->name, e.message);
    ps_validator_free(v);
    return PS_OK;
}

void ps_plan_validate_config(const ps_ds_plan *p, const ps_tz *serial_zone, ps_validate_config *out)
{
    const ps_dataset_def *d = p->def;
    memset(out, 0, sizeof *out);
    out->dataset = d->name;
    out->profile = d->profile;
    out->naive_zone = p->zone;
    /* Date serials are wall-clock time in the source's own zone (a spreadsheet's timeZone);
     * mapping.timestamp.time_zone / utc_offset are for text timestamps, and apply to serials
     * only, both alike, when the source reports no zone. */
    out->serial_zone = serial_zone ? serial_zone : p->zone;
    out->ts_formats = (const char *const *)d->ts_formats;
    out->n_ts_formats = d->n_ts_formats;
    out->phone_country_code = d->phone_country_code;
    out->country = d->country;
    out->txtype_alias_from = p->tx_from;
    out->txtype_alias_to = p->tx_to;
    out->n_txtype_aliases = d->ntxtype_aliases;
    memcpy(out->defaults, p->defaults, sizeof out->defaults);
}

/* The instance of sink sd (a file sink with {dataset} in its path) for dataset d: its
 * options with the path expanded. */
static ps_status create_per_dataset_sink(const ps_config *cfg, ps_registry *reg,
                                         const ps_sink_def *sd, const ps_dataset_def *d,
                                         ps_sink_inst *si, ps_error *err)
{
    ps_plugin_ref ref = sd->ref;
    ref.opts = calloc(sd->ref.nopts + 1, sizeof *ref.opts);
    if (!ref.opts)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    char *path = NULL;
    for (size_t i = 0; i < sd->ref.nopts; i++) {
        ref.opts[i] = sd->ref.opts[i];
        if (!path && strcmp(ref.opts[i].key, "path") == 0) {
            path = ps_file_sink_expand(ref.opts[i].value, d->name);
            if (!path) {
                free(ref.opts);
                return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
            }
            ref.opts[i].value = path;
        }
    }
    si->def = sd;
    snprintf(si->label, sizeof si->label, "sink %s (%s)", sd->name, d->name);
    si->env.name = si->label;
    char context[300];
    snprintf(context, sizeof context, "sink '%s' for dataset '%s'", sd->name, d->name);
    ps_status st = create_instance(cfg, reg, &ref, PS_PLUGIN_SINK, context, &si->plugin, &si->opts,
                                   &si->ctx, &si->env, &si->inst, err);
    free(path);
    free(ref.opts);
    if (st != PS_OK) {
        si->inst = NULL;
        return st;
    }
    si->used = 1;
    return PS_OK;
}

ps_status ps_plan_build(const ps_config *cfg, ps_registry *reg, char *const *only, size_t nonly,
                        int no_sinks, ps_plan *out, ps_error *err)
{
    memset(out, 0, sizeof *out);
    out->cfg = cfg;
    for (size_t i = 0; i < nonly; i++) {
        if (ps_config_dataset(cfg, only[i]))
            continue;
        const char **names = calloc(cfg->ndatasets + 1, sizeof *names);
        for (size_t k = 0; names && k < cfg->ndatasets; k++)
            names[k] = cfg->datasets[k].name;
        const char *s = names ? ps_suggest(only[i], names, cfg->ndatasets) : NULL;
        ps_status st =
            ps_error_setf(err, PS_ERR_CONFIG, "%s: no dataset named '%s'%s%s%s", cfg->path, only[i],
                          s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
        free(names);
        return st;
    }
    /* A sink with {dataset} in its path gets one instance per dataset, after the shared ones. */
    size_t nper = 0;
    for (size_t i = 0; i < cfg->ndatasets && !no_sinks; i++) {
        const ps_dataset_def *d = &cfg->datasets[i];
        for (size_t k = 0; selected(d->name, only, nonly) && k < d->nsinks; k++)
            nper += (size_t)ps_file_sink_per_dataset(ps_config_sink(cfg, d->sinks[k]));
    }
    size_t next_per = cfg->nsinks;
    out->sinks = calloc(cfg->nsinks + nper + 1, sizeof *out->sinks);
    out->ds = calloc(cfg->ndatasets + 1, sizeof *out->ds);
    if (!out->sinks || !out->ds)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    ps_status st = PS_OK;
    for (size_t i = 0; i < cfg->ndatasets && st == PS_OK; i++) {
        const ps_dataset_def *d = &cfg->datasets[i];
        if (!selected(d->name, only, nonly))
            continue;
        ps_ds_plan *p = &out->ds[out->nds++];
        p->def = d;
        snprintf(p->label, sizeof p->label, "%s", d->name);
        p->env.name = p->label;
        p->env.mapping = &p->mspec;
        st = build_mapping(cfg, p, err);
        if (st != PS_OK)
            break;
        char context[200];
        snprintf(context, sizeof context, "dataset '%s' source", d->name);
        st = create_instance(cfg, reg, &d->source, PS_PLUGIN_PROVIDER, context, &p->plugin,
                             &p->opts, &p->ctx, &p->env, &p->inst, err);
        if (st != PS_OK)
            break;
        if (d->meters.plugin) {
            snprintf(p->mlabel, sizeof p->mlabel, "%s verify_meters", d->name);
            p->mcolumn[0] = d->meters_column ? d->meters_column : "external_id";
            p->mfield[0] = PS_F_METER_ID;
            p->mmspec.alias_header = p->mcolumn;
            p->mmspec.alias_field = p->mfield;
            p->mmspec.n_aliases = 1;
            p->mmspec.profile = d->profile;
            p->menv.name = p->mlabel;
            p->menv.mapping = &p->mmspec;
            snprintf(context, sizeof context, "dataset '%s' verify_meters", d->name);
            st = create_instance(cfg, reg, &d->meters, PS_PLUGIN_PROVIDER, context, &p->mplugin,
                                 &p->mopts, &p->mctx, &p->menv, &p->minst, err);
            if (st != PS_OK) {
                p->minst = NULL;
                break;
            }
        }
        if (no_sinks)
            continue;
        p->sinks = calloc(d->nsinks + 1, sizeof *p->sinks);
        if (!p->sinks) {
            st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
            break;
        }
        for (size_t k = 0; k < d->nsinks && st == PS_OK; k++) {
            const ps_sink_def *sd = ps_config_sink(cfg, d->sinks[k]);
            if (!sd) {
                st = ps_error_setf(err, PS_ERR_CONFIG, "%s: dataset '%s' uses unknown sink '%s'",
                                   cfg->path, d->name, d->sinks[k]);
                break;
            }
            if (ps_file_sink_per_dataset(sd)) {
                ps_sink_inst *si = &out->sinks[next_per++];
                st = create_per_dataset_sink(cfg, reg, sd, d, si, err);
                if (st != PS_OK)
                    break;
                p->sinks[p->nsinks++] = si;
                continue;
            }
            ps_sink_inst *si = &out->sinks[sd - cfg->sinks];
            if (!si->def) {
                si->def = sd;
                snprintf(si->label, sizeof si->label, "sink %s", sd->name);
                si->env.name = si->label;
                snprintf(context, sizeof context, "sink '%s'", sd->name);
                st = create_instance(cfg, reg, &sd->ref, PS_PLUGIN_SINK, context, &si->plugin,
                                     &si->opts, &si->ctx, &si->env, &si->inst, err);
                if (st != PS_OK) {
                    si->inst = NULL;
                    break;
                }
            }
            si->used = 1;
            p->sinks[p->nsinks++] = si;
            if (!p->state_sink && (si->plugin->desc->flags & PS_SINK_KEEPS_STATE))
                p->state_sink = si;
        }
    }
    /* Sinks no selected dataset uses still get their options checked. */
    for (size_t i = 0; i < cfg->nsinks && st == PS_OK && !no_sinks; i++) {
        if (out->sinks[i].def)
            continue;
        const ps_sink_def *sd = &cfg->sinks[i];
        const ps_plugin *pl = NULL;
        ps_options *o = NULL;
        ps_error e = {0};
        char context[200];
        snprintf(context, sizeof context, "sink '%s'", sd->name);
        st = ps_registry_find(reg, sd->ref.plugin, &pl, &e);
        if (st != PS_OK) {
            ps_error_setf(err, st, "%s:%d:%d: %s: plugin '%s': %s", cfg->path, sd->ref.line,
                          sd->ref.col, context, sd->ref.plugin, e.message);
            break;
        }
        st = ps_options_from_ref(pl->desc, &sd->ref, cfg, context, &o, err);
        ps_options_free(o);
    }
    out->nsinks = next_per;
    if (st != PS_OK)
        ps_plan_free(out);
    return st;
}

void ps_plan_free(ps_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nds; i++) {
        ps_ds_plan *d = &p->ds[i];
        if (d->inst && d->plugin)
            d->plugin->desc->destroy(d->inst);
        ps_options_free(d->opts);
        if (d->minst && d->mplugin)
            d->mplugin->desc->destroy(d->minst);
        ps_options_free(d->mopts);
        ps_tz_free(d->zone);
        ps_rowfilter_free(d->rowfilter);
        free(d->alias_header);
        free(d->alias_field);
        free(d->tx_from);
        free(d->tx_to);
        free(d->sinks);
    }
    for (size_t i = 0; i < p->nsinks; i++) {
        ps_sink_inst *s = &p->sinks[i];
        if (s->inst && s->plugin)
            s->plugin->desc->destroy(s->inst);
        ps_options_free(s->opts);
    }
    free(p->ds);
    free(p->sinks);
    memset(p, 0, sizeof *p);
}
