/* paysync plugins: list loadable plugins. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "plugin/connectors.h"

static const char plugins_usage[] =
    "usage: paysync plugins [--json] [--config CONFIG]\n"
    "\n"
    "Lists the built-in plugins (the sqlite store) and every plugin found on the plugin path\n"
    "(the plugin folder next to the executable, then $PAYSYNC_PLUGIN_PATH, then the config's\n"
    "plugin_path) with kind, version and options, then the connectors: manifests of the rest\n"
    "provider (NAME.yaml next to paysync, on $PAYSYNC_CONNECTOR_PATH or on the plugin path),\n"
    "each usable as plugin: NAME. Files that fail to load are listed with the reason.\n"
    "exit: 0, or 1 when a plugin file failed to load\n";

static const char *type_name(ps_option_type t)
{
    const char *n = ps_option_type_name(t);
    return n ? n : "?";
}

typedef struct scan_ctx {
    int json;
    json_t *arr;
    int failures;
    int found;      /* plugin files (built-in plugins not counted) */
    int connectors; /* connector manifests listed (text) */
} scan_ctx;

static void on_plugin(void *vctx, const ps_plugin *p, const char *file, const ps_error *e)
{
    scan_ctx *ctx = vctx;
    if (!p || p->path)
        ctx->found++;
    if (!p) {
        ctx->failures++;
        if (ctx->json) {
            json_t *o = json_object();
            json_object_set_new(o, "file", json_string(file ? file : ""));
            json_object_set_new(o, "error", json_string(e ? e->message : "unknown error"));
            json_array_append_new(ctx->arr, o);
        } else {
            printf("! %s: %s\n\n", file ? file : "?", e ? e->message : "unknown error");
        }
        return;
    }
    const ps_plugin_descriptor *d = p->desc;
    const char *kind = d->kind == PS_PLUGIN_PROVIDER ? "provider" : "sink";
    if (ctx->json) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(d->name));
        json_object_set_new(o, "kind", json_string(kind));
        json_object_set_new(o, "version", json_string(d->version ? d->version : ""));
        json_object_set_new(o, "description", json_string(d->description ? d->description : ""));
        json_object_set_new(o, "file", p->path ? json_string(p->path) : json_null());
        json_object_set_new(o, "builtin", json_boolean(!p->path));
        json_object_set_new(o, "abi", json_sprintf("%u.%u", d->abi_major, d->abi_minor));
        if (d->kind == PS_PLUGIN_PROVIDER)
            json_object_set_new(
                o, "shape",
                json_string(d->provider->shape == PS_SHAPE_RECORD ? "record" : "tabular"));
        json_t *opts = json_array();
        size_t stride = ps_descriptor_option_stride(d);
        for (size_t i = 0, n = ps_option_table_len(d->options, stride); i < n; i++) {
            ps_option_spec spec, *s = &spec;
            ps_option_entry(d->options, stride, i, &spec);
            json_t *so = json_object();
            json_object_set_new(so, "name", json_string(s->name));
            json_object_set_new(so, "type", json_string(type_name(s->type)));
            json_object_set_new(so, "required", json_boolean(s->required));
            json_object_set_new(so, "secret", json_boolean(s->secret));
            json_object_set_new(so, "default",
                                s->default_value ? json_string(s->default_value) : json_null());
            json_object_set_new(so, "description",
                                json_string(s->description ? s->description : ""));
            if (s->flags & PS_OPTF_MIN)
                json_object_set_new(so, "min", json_integer(s->min));
            if (s->flags & PS_OPTF_MAX)
                json_object_set_new(so, "max", json_integer(s->max));
            if (s->type == PS_OPT_ENUM) {
                json_t *ch = json_array();
                for (size_t k = 0; s->choices && k < PS_MAX_CHOICES && s->choices[k]; k++)
                    json_array_append_new(ch, json_string(s->choices[k]));
                json_object_set_new(so, "choices", ch);
            }
            char allowed[512];
            ps_option_describe(s, allowed, sizeof allowed);
            json_object_set_new(so, "accepts", json_string(allowed));
            json_array_append_new(opts, so);
        }
        json_object_set_new(o, "options", opts);
        json_array_append_new(ctx->arr, o);
        return;
    }
    printf("%s (%s %s) - %s\n", d->name, kind, d->version ? d->version : "?",
           d->description ? d->description : "");
    if (d->kind == PS_PLUGIN_PROVIDER && d->provider->shape == PS_SHAPE_RECORD)
        printf("  shape: record (keys mapped by path)\n");
    if (p->path)
        printf("  file: %s\n", p->path);
    else
        printf("  built-in\n");
    size_t stride = ps_descriptor_option_stride(d);
    for (size_t i = 0, n = ps_option_table_len(d->options, stride); i < n; i++) {
        ps_option_spec spec, *s = &spec;
        ps_option_entry(d->options, stride, i, &spec);
        char bounds[512];
        ps_option_bounds(s, bounds, sizeof bounds);
        printf("  %-24s %-8s %s%s%s%s%s%s\n", s->name, type_name(s->type),
               s->required ? "required" : "optional", s->secret ? ", secret" : "",
               s->default_value ? ", default " : "", s->default_value ? s->default_value : "",
               bounds[0] ? (s->type == PS_OPT_ENUM ? ", one of " : ", range ") : "", bounds);
        if (s->description)
            printf("  %-24s          %s\n", "", s->description);
    }
    printf("\n");
}

/* One connector manifest: a line (and its file) in the text listing, an object in JSON. */
static void on_connector(void *vctx, const ps_connector_info *c)
{
    scan_ctx *ctx = vctx;
    if (ctx->json) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(c->name));
        json_object_set_new(o, "kind", json_string("connector"));
        json_object_set_new(o, "provider", json_string(PS_CONNECTOR_PLUGIN));
        json_object_set_new(o, "description", json_string(c->description));
        json_object_set_new(o, "file", json_string(c->path));
        json_object_set_new(o, "from", json_string(c->from));
        json_object_set_new(o, "builtin", json_false());
        json_object_set_new(o, "shadowed", json_boolean(c->shadowed));
        json_array_append_new(ctx->arr, o);
        return;
    }
    if (!ctx->connectors++)
        printf("connectors (manifests of the %s provider; a dataset's source takes "
               "plugin: NAME):\n\n",
               PS_CONNECTOR_PLUGIN);
    printf("%s (connector) - %s\n  file: %s (%s)%s\n\n", c->name,
           c->description[0] ? c->description : "(no description)", c->path, c->from,
           c->shadowed ? "\n  not used: plugin: NAME finds another plugin or manifest first" : "");
}

int cmd_plugins(int argc, char **argv)
{
    static const struct option longopts[] = {{"json", no_argument, 0, 'j'},
                                             {"config", required_argument, 0, 'c'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    int json = 0, c;
    const char *config = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "jc:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'c': config = optarg; break;
        case 'h': return cli_usage(plugins_usage, 1);
        default: return cli_usage(plugins_usage, 0);
        }
    }
    if (optind != argc)
        return cli_usage(plugins_usage, 0);
    ps_config *cfg = NULL;
    ps_registry *reg = NULL;
    int rc = config ? cli_load(config, &cfg, &reg) : cli_registry(NULL, 0, &reg);
    if (rc != 0)
        return rc;
    scan_ctx ctx = {.json = json, .arr = json_array(), .failures = 0};
    ps_registry_scan(reg, on_plugin, &ctx);
    ps_connector_scan(reg, on_connector, &ctx);
    if (!ctx.found)
        cli_error("no plugins found: set plugin_path in a config (--config) or "
                  "PAYSYNC_PLUGIN_PATH");
    if (json) {
        json_dumpf(ctx.arr, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
    }
    json_decref(ctx.arr);
    ps_registry_free(reg);
    ps_config_free(cfg);
    return ctx.failures ? PS_EXIT_FAILED : PS_EXIT_OK;
}
