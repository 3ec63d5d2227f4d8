/* Unit tests: YAML configuration (config.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"

static const char good_yaml[] =
    "plugin_path: [build/plugins, /opt/ps]\n"
    "sinks:\n"
    "  export: {plugin: jsonl, path: out/payments.jsonl}\n"
    "  store: {plugin: sqlite, path: var/paysync.db, password: \"${PS_TEST_DB_PW}\"}\n"
    "datasets:\n"
    "  - name: 01_2024_Site_Name\n"
    "    type: electricity_payments\n"
    "    target: {level: project, id: site-001}\n"
    "    profile: strict\n"
    "    source: {plugin: csvfile, path: config/sample/payments.csv}\n"
    "    mapping:\n"
    "      columns: {\"Amount (NGN)\": PAYMENT_AMOUNT, \"When\": timestamp, Meter: meter id}\n"
    "      defaults: {PAYMENT_CURRENCY: NGN, customer category: Residential}\n"
    "      timestamp: {formats: [\"%d/%m/%Y %H:%M\", \"%Y%m%d\"], utc_offset: \"+01:00\"}\n"
    "      transaction_types: {PAY: FULL_PAYMENT, INST: INSTALLMENT_PAYMENT}\n"
    "      phone_country_code: \"+234\"\n"
    "      country: ng\n"
    "    sinks: [export, store]\n"
    "    rejects: out/rejects.jsonl\n"
    "    warnings: /var/log/w.jsonl\n"
    "    schedule: {daily: {at: \"02:00\", jitter: 10m}}\n"
    "  - name: shs-program\n"
    "    target: {level: program, id: prog-7}\n"
    "    source: {plugin: gsheet, sheet_id: abc, note: \"cost $$5 and $${HOME}\"}\n"
    "    mapping: {timestamp: {time_zone: Africa/Lagos, formats: \"%d.%m.%Y\"}}\n"
    "    sinks: store\n"
    "    schedule: hourly\n"
    "  - name: third\n"
    "    target: {id: t}\n"
    "    source: {plugin: csvfile, path: /abs.csv}\n"
    "    sinks: [export]\n"
    "    schedule: {every: 6h}\n"
    "serve:\n"
    "  listen: 0.0.0.0:9000\n"
    "  store: store\n"
    "  max_connections: 64\n"
    "  keys:\n"
    "    - {name: platform, key_sha256: "
    "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08, datasets: "
    "[01_2024_Site_Name]}\n"
    "    - {name: ops, key_sha256: "
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, datasets: \"*\"}\n";

static const char *kv_get(const ps_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, key) == 0)
            return kv[i].value;
    return NULL;
}

static void test_good_config(void **state)
{
    (void)state;
    setenv("PS_TEST_DB_PW", "pw-from-env", 1);
    ps_config *c = NULL;
    ps_error err;
    ps_status st =
        ps_config_load_string(good_yaml, strlen(good_yaml), "good.yaml", "/cfg", &c, &err);
    if (st != PS_OK)
        fail_msg("%s", err.message);
    assert_string_equal(c->path, "good.yaml");
    assert_string_equal(c->dir, "/cfg");
    assert_int_equal(c->nplugin_path, 2);
    assert_string_equal(c->plugin_path[0], "/cfg/build/plugins");
    assert_string_equal(c->plugin_path[1], "/opt/ps");

    assert_int_equal(c->nsinks, 2);
    const ps_sink_def *s = ps_config_sink(c, "store");
    assert_non_null(s);
    assert_string_equal(s->ref.plugin, "sqlite");
    assert_int_equal(s->ref.nopts, 2);
    assert_string_equal(s->ref.opts[0].key, "path");
    assert_string_equal(s->ref.opts[0].value, "var/paysync.db"); /* raw: options resolve it */
    assert_int_equal(s->ref.opts[0].line, 4);
    assert_int_equal(s->ref.opts[0].col, 27);
    assert_string_equal(kv_get(s->ref.opts, s->ref.nopts, "password"), "pw-from-env");
    assert_int_equal(s->ref.line, 4);
    assert_int_equal(s->ref.col, 10);
    assert_null(ps_config_sink(c, "nope"));

    assert_int_equal(c->ndatasets, 3);
    const ps_dataset_def *d = ps_config_dataset(c, "01_2024_Site_Name");
    assert_non_null(d);
    assert_int_equal(d->line, 6);
    assert_int_equal(d->col, 5);
    assert_string_equal(d->type, "electricity_payments");
    assert_int_equal(d->target_level, PS_TARGET_PROJECT);
    assert_string_equal(d->target_id, "site-001");
    assert_int_equal(d->profile, PS_PROFILE_STRICT);
    assert_string_equal(d->source.plugin, "csvfile");
    assert_string_equal(kv_get(d->source.opts, d->source.nopts, "path"),
                        "config/sample/payments.csv");
    assert_int_equal(d->ncolumns, 3);
    assert_string_equal(kv_get(d->columns, d->ncolumns, "Amount (NGN)"), "PAYMENT_AMOUNT");
    assert_string_equal(kv_get(d->columns, d->ncolumns, "When"), "TIMESTAMP");
    assert_string_equal(kv_get(d->columns, d->ncolumns, "Meter"), "METER_ID");
    assert_int_equal(d->ndefaults, 2);
    assert_string_equal(kv_get(d->defaults, d->ndefaults, "PAYMENT_CURRENCY"), "NGN");
    assert_string_equal(kv_get(d->defaults, d->ndefaults, "CUSTOMER_CATEGORY"), "Residential");
    assert_int_equal(d->n_ts_formats, 2);
    assert_string_equal(d->ts_formats[0], "%d/%m/%Y %H:%M");
    assert_string_equal(d->ts_formats[1], "%Y%m%d");
    assert_string_equal(d->utc_offset, "+01:00");
    assert_null(d->time_zone);
    assert_string_equal(kv_get(d->txtype_aliases, d->ntxtype_aliases, "PAY"), "FULL_PAYMENT");
    assert_string_equal(kv_get(d->txtype_aliases, d->ntxtype_aliases, "INST"),
                        "INSTALLMENT_PAYMENT");
    assert_string_equal(d->phone_country_code, "234");
    assert_string_equal(d->country, "NG"); /* upper-cased */
    assert_int_equal(d->nsinks, 2);
    assert_string_equal(d->sinks[0], "export");
    assert_string_equal(d->sinks[1], "store");
    assert_string_equal(d->rejects, "/cfg/out/rejects.jsonl");
    assert_string_equal(d->warnings, "/var/log/w.jsonl");
    assert_int_equal(d->nschedule, 3);
    assert_string_equal(d->schedule[0].key, "kind");
    assert_string_equal(d->schedule[0].value, "daily");
    assert_string_equal(kv_get(d->schedule, d->nschedule, "at"), "02:00");
    assert_string_equal(kv_get(d->schedule, d->nschedule, "jitter"), "10m");

    d = ps_config_dataset(c, "shs-program");
    assert_non_null(d);
    assert_int_equal(d->target_level, PS_TARGET_PROGRAM);
    assert_int_equal(d->profile, PS_PROFILE_STANDARD);
    assert_string_equal(d->time_zone, "Africa/Lagos");
    assert_null(d->utc_offset);
    assert_int_equal(d->n_ts_formats, 1);
    assert_string_equal(kv_get(d->source.opts, d->source.nopts, "note"), "cost $$5 and ${HOME}");
    assert_int_equal(d->nsinks, 1);
    assert_null(d->rejects);
    assert_null(d->warnings);
    assert_int_equal(d->nschedule, 1);
    assert_string_equal(d->schedule[0].key, "kind");
    assert_string_equal(d->schedule[0].value, "hourly");

    d = ps_config_dataset(c, "third");
    assert_int_equal(d->target_level, PS_TARGET_PROJECT); /* default level */
    assert_int_equal(d->nschedule, 2);
    assert_string_equal(d->schedule[0].value, "every");
    assert_string_equal(kv_get(d->schedule, d->nschedule, "every"), "6h");
    assert_null(ps_config_dataset(c, "nope"));

    assert_true(c->serve.present);
    assert_string_equal(c->serve.listen, "0.0.0.0:9000");
    assert_string_equal(c->serve.store, "store");
    assert_int_equal(c->serve.nlimits, 1);
    assert_string_equal(c->serve.limits[0].key, "max_connections");
    assert_string_equal(c->serve.limits[0].value, "64");
    assert_int_equal(c->serve.nkeys, 2);
    assert_string_equal(c->serve.keys[0].name, "platform");
    assert_string_equal(c->serve.keys[0].key_sha256,
                        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    assert_int_equal(c->serve.keys[0].ndatasets, 1);
    assert_string_equal(c->serve.keys[1].datasets[0], "*");
    assert_int_equal(c->has_secrets_world_readable, 0); /* not a file */
    ps_config_free(c);
    unsetenv("PS_TEST_DB_PW");
}

/* Minimal config; the error cases below differ from it in one place. */
#define SINKS "sinks:\n  export: {plugin: jsonl, path: o.jsonl}\n"
#define DS_HEAD "datasets:\n  - name: d1\n    target: {level: project, id: s1}\n"
#define DS_SRC "    source: {plugin: csvfile, path: p.csv}\n"
#define DS_SINKS "    sinks: [export]\n"

static void test_minimal_and_defaults(void **state)
{
    (void)state;
    const char *y = SINKS DS_HEAD DS_SRC DS_SINKS;
    ps_config *c;
    ps_error err;
    assert_int_equal(ps_config_load_string(y, strlen(y), "m.yaml", NULL, &c, &err), PS_OK);
    assert_string_equal(c->dir, ".");
    assert_int_equal(c->nplugin_path, 0);
    assert_false(c->serve.present);
    assert_null(c->datasets[0].schedule);
    assert_int_equal(c->datasets[0].profile, PS_PROFILE_STANDARD);
    ps_config_free(c);

    /* the spec's example name has a space */
    const char *y1 =
        SINKS "datasets:\n  - name: 01_2024_Site Name\n    target: {id: x}\n" DS_SRC DS_SINKS;
    assert_int_equal(ps_config_load_string(y1, strlen(y1), "m.yaml", NULL, &c, &err), PS_OK);
    assert_non_null(ps_config_dataset(c, "01_2024_Site Name"));
    ps_config_free(c);

    /* serve defaults: listen, and store = the only sqlite sink */
    const char *y2 = "sinks:\n  db: {plugin: sqlite, path: x.db}\n" DS_HEAD DS_SRC
                     "    sinks: [db]\nserve: {}\n";
    assert_int_equal(ps_config_load_string(y2, strlen(y2), "m.yaml", "/x", &c, &err), PS_OK);
    assert_true(c->serve.present);
    assert_string_equal(c->serve.listen, "127.0.0.1:8080");
    assert_string_equal(c->serve.store, "db");
    assert_int_equal(c->serve.nkeys, 0);
    ps_config_free(c);
}

typedef struct ecase {
    const char *what;
    const char *yaml;
    const char *expect[3]; /* substrings of the message */
} ecase;

static const ecase ecases[] = {
    {"top-level typo",
     "sinkz:\n  export: {plugin: jsonl}\n",
     {"t.yaml:1:1: top level: unknown key 'sinkz'", "(did you mean 'sinks'?)", NULL}},
    {"dataset key typo",
     SINKS DS_HEAD DS_SRC DS_SINKS "    profil: strict\n",
     {"t.yaml:8:5: datasets[0]: unknown key 'profil'", "(did you mean 'profile'?)", NULL}},
    {"bad profile",
     SINKS DS_HEAD DS_SRC DS_SINKS "    profile: strikt\n",
     {"t.yaml:8:14: datasets[d1].profile: 'strikt' is not valid", "(did you mean 'strict'?)",
      "expected one of: standard, strict"}},
    {"bad target level",
     SINKS "datasets:\n  - name: d1\n    target: {level: projet, id: s1}\n" DS_SRC DS_SINKS,
     {"t.yaml:5:21: datasets[d1].target.level: 'projet' is not valid", "(did you mean 'project'?)",
      NULL}},
    {"target key typo",
     SINKS "datasets:\n  - name: d1\n    target: {levl: project, id: s1}\n" DS_SRC DS_SINKS,
     {"t.yaml:5:14: datasets[d1].target: unknown key 'levl'", "(did you mean 'level'?)", NULL}},
    {"missing target id",
     SINKS "datasets:\n  - name: d1\n    target: {level: program}\n" DS_SRC DS_SINKS,
     {"t.yaml:5:13: datasets[d1].target: missing key 'id'", NULL, NULL}},
    {"missing target",
     SINKS "datasets:\n  - name: d1\n" DS_SRC DS_SINKS,
     {"t.yaml:4:5: datasets[d1]: missing key 'target'", NULL, NULL}},
    {"unknown sink",
     SINKS DS_HEAD DS_SRC "    sinks: [exprot]\n",
     {"t.yaml:7:13: datasets[d1].sinks: unknown sink 'exprot'", "(did you mean 'export'?)", NULL}},
    {"sink listed twice",
     SINKS DS_HEAD DS_SRC "    sinks: [export, export]\n",
     {"t.yaml:7:21: datasets[d1].sinks: sink 'export' listed twice", NULL, NULL}},
    {"no sinks defined",
     DS_HEAD DS_SRC DS_SINKS,
     {"t.yaml:5:13: datasets[d1].sinks: unknown sink 'export'", "no sinks are defined", NULL}},
    {"missing sinks",
     SINKS DS_HEAD DS_SRC,
     {"t.yaml:4:5: datasets[d1]: missing key 'sinks'", NULL, NULL}},
    {"duplicate dataset name",
     SINKS DS_HEAD DS_SRC DS_SINKS "  - name: d1\n    target: {id: x}\n" DS_SRC DS_SINKS,
     {"t.yaml:8:11: datasets[1].name: duplicate dataset name 'd1' (first at line 4)", NULL, NULL}},
    {"bad dataset name",
     SINKS "datasets:\n  - name: a/b\n    target: {id: x}\n" DS_SRC DS_SINKS,
     {"t.yaml:4:11: datasets[0].name: dataset name 'a/b' must be", NULL, NULL}},
    {"bad type",
     SINKS DS_HEAD DS_SRC DS_SINKS "    type: electricity_payment\n",
     {"t.yaml:8:11: datasets[d1].type: 'electricity_payment' is not valid",
      "(did you mean 'electricity_payments'?)", NULL}},
    {"columns field typo",
     SINKS DS_HEAD DS_SRC DS_SINKS "    mapping:\n      columns: {\"Amount\": PAYMENT_AMOUNTT}\n",
     {"t.yaml:9:27: datasets[d1].mapping.columns.\"Amount\": 'PAYMENT_AMOUNTT' is not a field",
      "(did you mean 'PAYMENT_AMOUNT'?)", NULL}},
    {"defaults field typo",
     SINKS DS_HEAD DS_SRC DS_SINKS "    mapping:\n      defaults: {PAYMENT_CURENCY: NGN}\n",
     {"t.yaml:9:18: datasets[d1].mapping.defaults.PAYMENT_CURENCY: 'PAYMENT_CURENCY' is not a "
      "field",
      "(did you mean 'PAYMENT_CURRENCY'?)", NULL}},
    {"default given twice",
     SINKS DS_HEAD DS_SRC DS_SINKS
     "    mapping:\n      defaults: {PAYMENT_CURRENCY: NGN, payment currency: GHS}\n",
     {"t.yaml:9:41: datasets[d1].mapping.defaults.payment currency: field PAYMENT_CURRENCY "
      "already has a default",
      NULL, NULL}},
    {"mapping key typo",
     SINKS DS_HEAD DS_SRC DS_SINKS "    mapping:\n      colums: {}\n",
     {"t.yaml:9:7: datasets[d1].mapping: unknown key 'colums'", "(did you mean 'columns'?)", NULL}},
    {"timestamp key typo",
     SINKS DS_HEAD DS_SRC DS_SINKS "    mapping:\n      timestamp: {formts: [\"%Y\"]}\n",
     {"t.yaml:9:19: datasets[d1].mapping.timestamp: unknown key 'formts'",
      "(did you mean 'formats'?)", NULL}},
    {"offset and zone",
     SINKS DS_HEAD DS_SRC DS_SINKS
     "    mapping:\n      timestamp: {utc_offset: \"+01:00\", time_zone: Africa/Lagos}\n",
     {"t.yaml:9:52: datasets[d1].mapping.timestamp: set either 'utc_offset' or 'time_zone'", NULL,
      NULL}},
    {"bad offset",
     SINKS DS_HEAD DS_SRC DS_SINKS "    mapping:\n      timestamp: {utc_offset: \"+1\"}\n",
     {"t.yaml:9:31: datasets[d1].mapping.timestamp.utc_offset: '+1' is not an offset", NULL, NULL}},
    {"bad zone",
     SINKS DS_HEAD DS_SRC DS_SINKS "    mapping:\n      timestamp: {time_zone: ../etc/x}\n",
     {"t.yaml:9:30: datasets[d1].mapping.timestamp.time_zone: '../etc/x' is not an IANA", NULL,
      NULL}},
    {"transaction type typo",
     SINKS DS_HEAD DS_SRC DS_SINKS "    mapping:\n      transaction_types: {PAY: FULL_PAYMNT}\n",
     {"t.yaml:9:32: datasets[d1].mapping.transaction_types.PAY: 'FULL_PAYMNT' is not valid",
      "(did you mean 'FULL_PAYMENT'?)", NULL}},
    {"bad phone code",
     SINKS DS_HEAD DS_SRC DS_SINKS "    mapping:\n      phone_country_code: 23x\n",
     {"t.yaml:9:27: datasets[d1].mapping.phone_country_code: '23x' is not a country calling", NULL,
      NULL}},
    {"bad country",
     SINKS DS_HEAD DS_SRC DS_SINKS "    mapping:\n      country: NGA\n",
     {"t.yaml:9:16: datasets[d1].mapping.country: 'NGA' is not an ISO 3166 alpha-2 country code",
      NULL, NULL}},
    {"country without a numbering plan",
     SINKS DS_HEAD DS_SRC DS_SINKS "    mapping:\n      country: XX\n",
     {"t.yaml:9:16: datasets[d1].mapping.country: 'XX' is not an ISO 3166 alpha-2 country code "
      "with a telephone numbering plan (e.g. NG)",
      NULL, NULL}},
    {"non-geographic calling code",
     SINKS DS_HEAD DS_SRC DS_SINKS "    mapping:\n      phone_country_code: \"+800\"\n",
     {"t.yaml:9:27: datasets[d1].mapping.phone_country_code: '800' is not a country calling code",
      NULL, NULL}},
    {"country with a digit",
     SINKS DS_HEAD DS_SRC DS_SINKS "    mapping:\n      country: N1\n",
     {"datasets[d1].mapping.country: 'N1' is not an ISO 3166", NULL, NULL}},
    {"source without plugin",
     SINKS DS_HEAD "    source: {path: p.csv}\n" DS_SINKS,
     {"t.yaml:6:13: datasets[d1].source: missing key 'plugin'", NULL, NULL}},
    {"source plugin typo",
     SINKS DS_HEAD "    source: {plugn: csvfile}\n" DS_SINKS,
     {"t.yaml:6:14: datasets[d1].source: unknown key 'plugn'", "(did you mean 'plugin'?)", NULL}},
    {"option not a scalar",
     SINKS DS_HEAD "    source: {plugin: csvfile, path: [a, b]}\n" DS_SINKS,
     {"t.yaml:6:37: datasets[d1].source.path: option values must be single values", NULL, NULL}},
    {"bad plugin name",
     "sinks:\n  export: {plugin: ../x}\n",
     {"t.yaml:2:20: sinks.export.plugin: plugin name '../x' must be", NULL, NULL}},
    {"sinks not a mapping",
     "sinks: [a, b]\n",
     {"t.yaml:1:8: sinks: expected a mapping (key: value), found a sequence", NULL, NULL}},
    {"datasets not a list",
     SINKS "datasets: {name: x}\n",
     {"t.yaml:3:11: datasets: expected a list of datasets", NULL, NULL}},
    {"dataset not a mapping",
     SINKS "datasets:\n  - just-a-name\n",
     {"t.yaml:4:5: datasets[0]: expected a mapping (key: value), found a scalar", NULL, NULL}},
    {"top not a mapping", "- a\n- b\n", {"t.yaml:1:1: top level: expected a mapping", NULL, NULL}},
    {"duplicate key",
     SINKS DS_HEAD DS_SRC DS_SINKS "    source: {plugin: x}\n",
     {"t.yaml:8:5: duplicate key 'source' (first at line 6)", NULL, NULL}},
    {"alias",
     "x: &a [1, 2]\ny: *a\n",
     {"t.yaml:2:4: YAML aliases (*a) are not supported", NULL, NULL}},
    {"undefined variable",
     SINKS DS_HEAD "    source: {plugin: csvfile, path: \"${PS_NOPE_UNSET}\"}\n" DS_SINKS,
     {"t.yaml:6:37: datasets[d1].source.path: environment variable 'PS_NOPE_UNSET' is not set",
      NULL, NULL}},
    {"unterminated variable",
     SINKS DS_HEAD "    source: {plugin: csvfile, path: \"${HOME\"}\n" DS_SINKS,
     {"t.yaml:6:37: datasets[d1].source.path: unterminated '${'", NULL, NULL}},
    {"bad variable name",
     SINKS DS_HEAD "    source: {plugin: csvfile, path: \"${1X}\"}\n" DS_SINKS,
     {"t.yaml:6:37: datasets[d1].source.path: invalid variable name '${1X}'", NULL, NULL}},
    {"syntax error", "sinks: {a: b\n", {"t.yaml:2:1: YAML syntax error", NULL, NULL}},
    {"two documents",
     "sinks: {}\n---\nsinks: {}\n",
     {"t.yaml:2:1: only one YAML document is allowed", NULL, NULL}},
    {"empty", "", {"t.yaml:1:1: the configuration is empty", NULL, NULL}},
    {"schedule list",
     SINKS DS_HEAD DS_SRC DS_SINKS "    schedule: [daily]\n",
     {"t.yaml:8:15: datasets[d1].schedule: expected a value", NULL, NULL}},
    {"schedule kind twice",
     SINKS DS_HEAD DS_SRC DS_SINKS "    schedule: {daily: {at: 1, kind: x}}\n",
     {"t.yaml:8:31: datasets[d1].schedule.daily.kind: 'kind' is implied", NULL, NULL}},
    {"schedule empty mapping (fuzz_config regression)",
     SINKS DS_HEAD DS_SRC DS_SINKS "    schedule: {every: {}}\n",
     {"t.yaml:8:23: datasets[d1].schedule.every: expected a value or a mapping with keys, found {}",
      NULL, NULL}},
    {"serve key typo",
     SINKS "serve:\n  listn: 1.2.3.4:5\n  store: export\n",
     {"t.yaml:4:3: serve.listn: unknown key 'listn'", "(did you mean 'listen'?)", NULL}},
    {"serve store unknown",
     SINKS "serve:\n  store: exprt\n",
     {"t.yaml:4:10: serve.store: unknown sink 'exprt'", "(did you mean 'export'?)", NULL}},
    {"serve store missing",
     SINKS "serve:\n  listen: x\n",
     {"t.yaml:4:3: serve: missing key 'store'",
      "(the name of the sqlite or postgres sink to serve from)", NULL}},
    {"serve store ambiguous (two stores)",
     "sinks:\n  a: {plugin: sqlite, path: a.db}\n  b: {plugin: sqlite, path: b.db}\n"
     "serve:\n  listen: x\n",
     {"t.yaml:5:3: serve: missing key 'store'",
      "(the name of the sqlite or postgres sink to serve from)", NULL}},
    {"serve key bad hash",
     SINKS DS_HEAD DS_SRC DS_SINKS
     "serve:\n  store: export\n  keys:\n    - {name: a, key_sha256: abc, datasets: \"*\"}\n",
     {"t.yaml:11:29: serve.keys[0].key_sha256: expected 64 hexadecimal digits", NULL, NULL}},
    {"serve key unknown dataset",
     SINKS DS_HEAD DS_SRC DS_SINKS
     "serve:\n  store: export\n  keys:\n    - name: a\n      key_sha256: "
     "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n      datasets: [d2]\n",
     {"t.yaml:13:18: serve.keys[0].datasets: unknown dataset 'd2'", "(did you mean 'd1'?)", NULL}},
    {"serve key field typo",
     SINKS "serve:\n  store: export\n  keys:\n    - {name: a, key_sha265: x}\n",
     {"t.yaml:6:17: serve.keys[0]: unknown key 'key_sha265'", "(did you mean 'key_sha256'?)",
      NULL}},
    {"serve key duplicate name",
     SINKS "serve:\n  store: export\n  keys:\n"
           "    - {name: a, key_sha256: "
           "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, datasets: \"*\"}\n"
           "    - {name: a, key_sha256: "
           "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, datasets: \"*\"}\n",
     {"t.yaml:7:14: serve.keys[1].name: duplicate key name 'a'", NULL, NULL}},
    {"empty required value",
     SINKS "datasets:\n  - name: \"\"\n",
     {"t.yaml:4:11: datasets[0].name: a value is required", NULL, NULL}},
};

static void test_errors(void **state)
{
    (void)state;
    unsetenv("PS_NOPE_UNSET");
    int failures = 0;
    for (size_t i = 0; i < sizeof ecases / sizeof ecases[0]; i++) {
        const ecase *e = &ecases[i];
        ps_config *c = (ps_config *)1;
        ps_error err;
        ps_error_clear(&err);
        ps_status st = ps_config_load_string(e->yaml, strlen(e->yaml), "t.yaml", "/d", &c, &err);
        if (st != PS_ERR_CONFIG) {
            print_error("%s: status %d (%s)\n", e->what, st, err.message);
            failures++;
            continue;
        }
        assert_null(c);
        for (int j = 0; j < 3; j++)
            if (e->expect[j] && !strstr(err.message, e->expect[j])) {
                print_error("%s: message\n  %s\nlacks\n  %s\n", e->what, err.message, e->expect[j]);
                failures++;
            }
    }
    assert_int_equal(failures, 0);
}

static void test_deep_nesting_refused(void **state)
{
    (void)state;
    char y[512];
    size_t n = 0;
    n += (size_t)snprintf(y + n, sizeof y - n, "sinks: ");
    for (int i = 0; i < 40; i++)
        y[n++] = '[';
    for (int i = 0; i < 40; i++)
        y[n++] = ']';
    y[n++] = '\n';
    y[n] = '\0';
    ps_config *c;
    ps_error err;
    assert_int_equal(ps_config_load_string(y, n, "deep.yaml", "/d", &c, &err), PS_ERR_CONFIG);
    assert_non_null(strstr(err.message, "deep.yaml:1:"));
    assert_non_null(strstr(err.message, "nesting deeper than 32 levels"));
}

static void test_too_many_nodes_refused(void **state)
{
    (void)state;
    size_t cap = 30000 * 3 + 32, n = 0;
    char *y = malloc(cap);
    assert_non_null(y);
    n += (size_t)snprintf(y, cap, "x: [");
    for (int i = 0; i < 30000; i++) {
        y[n++] = '1';
        y[n++] = ',';
    }
    y[n++] = ']';
    y[n] = '\0';
    ps_config *c;
    ps_error err;
    assert_int_equal(ps_config_load_string(y, n, "big.yaml", "/d", &c, &err), PS_ERR_CONFIG);
    assert_non_null(strstr(err.message, "too many YAML nodes"));
    free(y);
}

static void test_suggest_and_resolve(void **state)
{
    (void)state;
    const char *c[] = {"sinks", "datasets", "serve", "plugin_path"};
    assert_string_equal(ps_suggest("sinkz", c, 4), "sinks");
    assert_string_equal(ps_suggest("dataset", c, 4), "datasets");
    assert_string_equal(ps_suggest("SERVE", c, 4), "serve");
    assert_string_equal(ps_suggest("plugin_pth", c, 4), "plugin_path");
    assert_string_equal(ps_suggest("srvee", c, 4), "serve"); /* transposition */
    assert_null(ps_suggest("completely_else", c, 4));
    assert_null(ps_suggest("x", c, 4));
    assert_null(ps_suggest("sinks", NULL, 0));
    char *p = ps_path_resolve("/a/b", "c/d");
    assert_string_equal(p, "/a/b/c/d");
    free(p);
    p = ps_path_resolve("/a/b/", "c");
    assert_string_equal(p, "/a/b/c");
    free(p);
    p = ps_path_resolve("/a", "/abs");
    assert_string_equal(p, "/abs");
    free(p);
    p = ps_path_resolve("/a", "-");
    assert_string_equal(p, "-");
    free(p);
    p = ps_path_resolve(NULL, "rel");
    assert_string_equal(p, "rel");
    free(p);
    assert_null(ps_path_resolve("/a", NULL));
}

/* ---- files ------------------------------------------------------------------------------ */

static char tmpdir[64];

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_file_load_and_secrets(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/ps_config_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    char path[128];
    snprintf(path, sizeof path, "%s/paysync.yaml", tmpdir);
    const char *plain = SINKS DS_HEAD DS_SRC DS_SINKS "    rejects: r.jsonl\n";
    const char *envy =
        SINKS DS_HEAD "    source: {plugin: csvfile, path: \"${PS_TEST_P}\"}\n" DS_SINKS;
    const char *secret = SINKS DS_HEAD "    source: {plugin: gsheet, api_token: abc}\n" DS_SINKS;
    setenv("PS_TEST_P", "p.csv", 1);
    ps_config *c;
    ps_error err;

    write_file(path, plain, 0644);
    assert_int_equal(ps_config_load(path, &c, &err), PS_OK);
    assert_string_equal(c->dir, tmpdir);
    assert_string_equal(c->path, path);
    char want[160];
    snprintf(want, sizeof want, "%s/r.jsonl", tmpdir);
    assert_string_equal(c->datasets[0].rejects, want);
    assert_int_equal(c->has_secrets_world_readable, 0);
    ps_config_free(c);

    write_file(path, envy, 0644);
    assert_int_equal(ps_config_load(path, &c, &err), PS_OK);
    assert_int_equal(c->has_secrets_world_readable, 1);
    ps_config_free(c);
    write_file(path, envy, 0640);
    assert_int_equal(ps_config_load(path, &c, &err), PS_OK);
    assert_int_equal(c->has_secrets_world_readable, 0);
    ps_config_free(c);

    write_file(path, secret, 0604);
    assert_int_equal(ps_config_load(path, &c, &err), PS_OK);
    assert_int_equal(c->has_secrets_world_readable, 1);
    ps_config_free(c);
    write_file(path, secret, 0600);
    assert_int_equal(ps_config_load(path, &c, &err), PS_OK);
    assert_int_equal(c->has_secrets_world_readable, 0);
    ps_config_free(c);

    /* errors name the file as given */
    write_file(path, "sinkz: {}\n", 0600);
    assert_int_equal(ps_config_load(path, &c, &err), PS_ERR_CONFIG);
    snprintf(want, sizeof want, "%s:1:1: top level: unknown key 'sinkz'", path);
    assert_non_null(strstr(err.message, want));

    /* over the size limit */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# big\n", f);
    for (int i = 0; i < 1100 * 1024 / 64; i++)
        fputs("#..............................................................\n", f);
    fclose(f);
    assert_int_equal(ps_config_load(path, &c, &err), PS_ERR_CONFIG);
    assert_non_null(strstr(err.message, "the limit is 1048576"));
    unlink(path);

    assert_int_equal(ps_config_load(path, &c, &err), PS_ERR_CONFIG);
    assert_non_null(strstr(err.message, "cannot open"));
    assert_int_equal(ps_config_load(tmpdir, &c, &err), PS_ERR_CONFIG);
    assert_non_null(strstr(err.message, "not a regular file"));
    rmdir(tmpdir);
    unsetenv("PS_TEST_P");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_config),
        cmocka_unit_test(test_minimal_and_defaults),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_deep_nesting_refused),
        cmocka_unit_test(test_too_many_nodes_refused),
        cmocka_unit_test(test_suggest_and_resolve),
        cmocka_unit_test(test_file_load_and_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
