/* paysync test-plugin: the conformance kit for one plugin (core/src/kit). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "kit/kit.h"
#include "plugin/connectors.h"

static const char test_plugin_usage[] =
    "usage: paysync test-plugin PLUGIN [--config CONFIG [--dataset NAME | --sink NAME]]\n"
    "                           [--timeout SECONDS]\n"
    "\n"
    "Loads one plugin (PLUGIN is a file DIR/NAME.so, or a name found on the plugin path;\n"
    "a connector name such as steamaco tests the rest provider with that manifest)\n"
    "and runs the conformance checks on it, printing one line per check:\n"
    "  providers: options, create/destroy cycles, the read contract (no PS_OK without rows,\n"
    "             every cell non-NULL, its length right and valid UTF-8, rows numbered\n"
    "             upwards), two reads identical, cursor round trip, a missing source fails\n"
    "             with a clear error;\n"
    "  sinks:     options, create/destroy cycles, an aborted write leaves nothing visible,\n"
    "             two commits of the same records give the same output.\n"
    "Each check runs in its own process with a time limit (--timeout, default 60 s), so a\n"
    "crash or a hang fails that check. A plugin with required options needs them from a\n"
    "config: --dataset NAME takes that dataset's source options (providers), --sink NAME the\n"
    "named sink's (sinks). Sinks always write into a temporary folder: path options are\n"
    "pointed there, never at the config's outputs.\n"
    "exit: 0 when no check failed (skipped ones are listed), 1 when one failed, 2 usage or\n"
    "the plugin cannot be loaded.\n";

int cmd_test_plugin(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"dataset", required_argument, NULL, 'd'},
        {"sink", required_argument, NULL, 's'},   {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *config = NULL, *dataset = NULL, *sink = NULL;
    unsigned timeout_s = 60;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'd':
            dataset = optarg;
            break;
        case 's':
            sink = optarg;
            break;
        case 't': {
            char *end = NULL;
            unsigned long v = strtoul(optarg, &end, 10);
            if (!end || *end || v == 0 || v > 86400) {
                cli_error("test-plugin: --timeout takes seconds from 1 to 86400, not '%s'", optarg);
                return PS_EXIT_USAGE;
            }
            timeout_s = (unsigned)v;
            break;
        }
        case 'h':
            return cli_usage(test_plugin_usage, 1);
        default:
            return cli_usage(test_plugin_usage, 0);
        }
    }
    if (optind != argc - 1)
        return cli_usage(test_plugin_usage, 0);
    if ((dataset || sink) && !config) {
        cli_error("test-plugin: --dataset and --sink need --config");
        return PS_EXIT_USAGE;
    }
    if (dataset && sink) {
        cli_error("test-plugin: give --dataset (a provider's options) or --sink, not both");
        return PS_EXIT_USAGE;
    }
    const char *target = argv[optind];
    ps_config *cfg = NULL;
    ps_registry *reg = NULL;
    int rc = config ? cli_load(config, &cfg, &reg) : cli_registry(NULL, 0, &reg);
    if (rc != 0)
        return rc;

    ps_error err = {0};
    const ps_plugin *p = NULL;
    size_t tl = strlen(target);
    int is_file = strchr(target, '/') || (tl > 3 && strcmp(target + tl - 3, ".so") == 0);
    /* a connector name: the rest provider with that manifest */
    char *manifest = NULL;
    ps_kv *conn_opts = NULL;
    int conn = is_file ? 0 : ps_connector_find(reg, target, &manifest, &err);
    ps_status st = conn < 0  ? err.code
                   : is_file ? ps_registry_load_file(reg, target, &p, &err)
                             : ps_registry_find(reg, conn ? PS_CONNECTOR_PLUGIN : target, &p, &err);
    if (st != PS_OK) {
        printf("paysync test-plugin: %s\n", target);
        printf("  load: FAIL %s\n0 passed, 1 failed, 0 skipped\n", err.message);
        free(manifest);
        ps_registry_free(reg);
        ps_config_free(cfg);
        return PS_EXIT_USAGE;
    }
    const ps_plugin_descriptor *d = p->desc;
    ps_kit_options ko = {.timeout_s = timeout_s,
                         .cfg_file = cfg ? cfg->path : NULL,
                         .cfg_dir = cfg ? cfg->dir : NULL};
    if (dataset) {
        size_t i = 0;
        while (i < cfg->ndatasets && strcmp(cfg->datasets[i].name, dataset) != 0)
            i++;
        if (i == cfg->ndatasets) {
            cli_error("test-plugin: %s has no dataset '%s'", cfg->path, dataset);
            rc = PS_EXIT_USAGE;
            goto out;
        }
        const ps_dataset_def *ds = &cfg->datasets[i];
        char *ds_manifest = NULL;
        ps_error e2 = {0};
        if (!manifest && strcmp(d->name, PS_CONNECTOR_PLUGIN) == 0 &&
            ps_connector_find(reg, ds->source.plugin, &ds_manifest, &e2) > 0)
            manifest = ds_manifest; /* rest tested with the dataset's connector */
        else if (manifest && strcmp(ds->source.plugin, target) == 0)
            ; /* test-plugin steamaco --dataset d, d reading with steamaco */
        else if (strcmp(ds->source.plugin, d->name) != 0) {
            cli_error("test-plugin: dataset '%s' reads with plugin '%s', not '%s'", dataset,
                      ds->source.plugin, d->name);
            rc = PS_EXIT_USAGE;
            goto out;
        }
        ko.opts = ds->source.opts;
        ko.nopts = ds->source.nopts;
        ko.dataset = ds->name;

    } else if (sink) {
        size_t i = 0;
        while (i < cfg->nsinks && strcmp(cfg->sinks[i].name, sink) != 0)
            i++;
        if (i == cfg->nsinks) {
            cli_error("test-plugin: %s has no sink '%s'", cfg->path, sink);
            rc = PS_EXIT_USAGE;
            goto out;
        }
        if (strcmp(cfg->sinks[i].ref.plugin, d->name) != 0) {
            cli_error("test-plugin: sink '%s' uses plugin '%s', not '%s'", sink,
                      cfg->sinks[i].ref.plugin, d->name);
            rc = PS_EXIT_USAGE;
            goto out;
        }
        ko.opts = cfg->sinks[i].ref.opts;
        ko.nopts = cfg->sinks[i].ref.nopts;
    }

    if (manifest) {
        size_t n = 0;
        conn_opts = ps_connector_opts(ko.opts, ko.nopts, manifest, 0, 0, &n);
        if (!conn_opts) {
            cli_error("test-plugin: out of memory");
            rc = PS_EXIT_USAGE;
            goto out;
        }
        ko.opts = conn_opts;
        ko.nopts = n;
    }
    printf("paysync test-plugin: %s (%s '%s' %s, ABI %u.%u)\n", p->path ? p->path : "built in",
           d->kind == PS_PLUGIN_PROVIDER ? "provider" : "sink", d->name,
           d->version ? d->version : "?", d->abi_major, d->abi_minor);
    ps_kit_report rep;
    memset(&rep, 0, sizeof rep);
    ps_kit_add(&rep, "load", PS_KIT_PASS, "descriptor, ABI and option table accepted");
    ps_kit_run(d, &ko, &rep);
    ps_kit_print(&rep, stdout);
    fflush(stdout);
    rc = rep.failed ? PS_EXIT_FAILED : PS_EXIT_OK;
out:
    free(conn_opts);
    free(manifest);
    ps_registry_free(reg);
    ps_config_free(cfg);
    return rc;
}
