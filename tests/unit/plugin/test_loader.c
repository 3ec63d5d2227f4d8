/* Unit tests: plugin loader (static registration, descriptor checks, dlopen refusals,
 * permissions, search path order). Test plugins come from $PS_TEST_PLUGIN_DIR. */
#include <dlfcn.h>
#include <fcntl.h>
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

#include "plugin/loader.h"
#include "store/store.h"

/* ---- an in-memory sink descriptor ------------------------------------------------------ */

static ps_status s_create(const ps_plugin_ctx *c, void **i, ps_error *e)
{
    (void)c;
    (void)e;
    *i = NULL;
    return PS_OK;
}
static void s_destroy(void *i)
{
    (void)i;
}
static ps_status s_open(void *i, const ps_sink_open_args *a, ps_error *e)
{
    (void)i;
    (void)a;
    (void)e;
    return PS_OK;
}
static ps_status s_write(void *i, const ps_record_batch *b, ps_error *e)
{
    (void)i;
    (void)b;
    (void)e;
    return PS_OK;
}
static ps_status s_commit(void *i, const ps_commit_info *ci, ps_change_counts *cc, ps_error *e)
{
    (void)i;
    (void)ci;
    (void)cc;
    (void)e;
    return PS_OK;
}
static ps_status p_open(void *i, const ps_open_args *a, ps_table_info *t, ps_error *e)
{
    (void)i;
    (void)a;
    (void)t;
    (void)e;
    return PS_OK;
}
static ps_status p_next(void *i, ps_arena *a, ps_row_batch *b, ps_error *e)
{
    (void)i;
    (void)a;
    (void)b;
    (void)e;
    return PS_END;
}

static const ps_sink_ops sink_ops = {
    sizeof(ps_sink_ops), s_open, s_write, s_commit, NULL, NULL, NULL, NULL};
static const ps_sink_ops sink_ops_nocommit = {
    sizeof(ps_sink_ops), s_open, s_write, NULL, NULL, NULL, NULL, NULL};
static const ps_provider_ops prov_ops = {.struct_size = sizeof(ps_provider_ops),
                                         .open = p_open,
                                         .next_batch = p_next,
                                         .cursor = NULL,
                                         .close = NULL};
static const ps_provider_ops prov_ops_nonext = {.struct_size = sizeof(ps_provider_ops),
                                                .open = p_open,
                                                .next_batch = NULL,
                                                .cursor = NULL,
                                                .close = NULL};

static const ps_option_spec good_opts[] = {
    {.name = "path", .type = PS_OPT_PATH, .default_value = "out.jsonl", .description = "file"},
    {0},
};

static ps_plugin_descriptor base_sink(void)
{
    ps_plugin_descriptor d = {sizeof(ps_plugin_descriptor),
                              PS_ABI_MAJOR,
                              PS_ABI_MINOR,
                              "memsink",
                              "1.0",
                              "in-memory test sink",
                              PS_PLUGIN_SINK,
                              0,
                              good_opts,
                              s_create,
                              NULL,
                              s_destroy,
                              NULL,
                              &sink_ops,
                              sizeof(ps_option_spec)};
    return d;
}

static const char *plugin_dir(void)
{
    const char *d = getenv("PS_TEST_PLUGIN_DIR");
    return d && *d ? d : NULL;
}

/* ---- static registration ------------------------------------------------------------- */

static void test_static_registration(void **state)
{
    (void)state;
    static ps_plugin_descriptor d;
    d = base_sink();
    ps_registry *r = ps_registry_new();
    assert_non_null(r);
    ps_error err;
    assert_int_equal(ps_registry_add_static(r, &d, &err), PS_OK);
    const ps_plugin *p = NULL;
    assert_int_equal(ps_registry_find(r, "memsink", &p, &err), PS_OK);
    assert_ptr_equal(p->orig, &d);
    assert_string_equal(p->desc->name, "memsink"); /* the core's full-size copy */
    assert_null(p->path);
    /* twice: refused */
    assert_int_equal(ps_registry_add_static(r, &d, &err), PS_ERR_PLUGIN);
    assert_non_null(strstr(err.message, "static plugin 'memsink'"));
    assert_non_null(strstr(err.message, "already registered"));
    /* a broken static descriptor is checked like a loaded one */
    static ps_plugin_descriptor bad;
    bad = base_sink();
    bad.name = "badsink";
    bad.abi_major = 9;
    bad.abi_minor = 0;
    assert_int_equal(ps_registry_add_static(r, &bad, &err), PS_ERR_PLUGIN);
    assert_non_null(strstr(err.message, "static plugin 'badsink': built for plugin ABI 9.0; this "
                                        "paysync loads ABI 2.x plugins: rebuild it against "
                                        "the paysync 2 headers"));
    /* the SQLite store's sink is built in: found without any plugin path, from no file, and
     * a second registration under its name is refused */
    assert_int_equal(ps_registry_find(r, "sqlite", &p, &err), PS_OK);
    assert_ptr_equal(p->orig, ps_store_backend_find("sqlite")->sink());
    assert_null(p->path);
    assert_int_equal(p->desc->kind, PS_PLUGIN_SINK);
    static ps_plugin_descriptor dup;
    dup = base_sink();
    dup.name = "sqlite";
    assert_int_equal(ps_registry_add_static(r, &dup, &err), PS_ERR_PLUGIN);
    assert_non_null(strstr(err.message, "static plugin 'sqlite'"));
    ps_registry_free(r);
}

/* ---- descriptor checks (table-driven) ------------------------------------------------- */

static const ps_option_spec dup_opts[] = {
    {.name = "path", .type = PS_OPT_PATH},
    {.name = "path", .type = PS_OPT_STRING},
    {0},
};
static const ps_option_spec badtype_opts[] = {
    {.name = "mode", .type = (ps_option_type)9},
    {0},
};
static const ps_option_spec badint_opts[] = {
    {.name = "batch", .type = PS_OPT_INT, .default_value = "ten"},
    {0},
};
static const ps_option_spec badbool_opts[] = {
    {.name = "gzip", .type = PS_OPT_BOOL, .default_value = "maybe"},
    {0},
};
static const ps_option_spec reserved_opts[] = {
    {.name = "plugin", .type = PS_OPT_STRING},
    {0},
};
static const ps_option_spec secretdefault_opts[] = {
    {.name = "retries", .type = PS_OPT_INT, .default_value = "hunter2", .secret = 1},
    {0},
};
static const ps_option_spec range_opts[] = {
    {.name = "rows", .type = PS_OPT_INT, .flags = PS_OPTF_RANGE, .min = 5, .max = 1},
    {0},
};
static const ps_option_spec outofrange_opts[] = {
    {.name = "wait",
     .type = PS_OPT_DURATION,
     .default_value = "2h",
     .flags = PS_OPTF_MAX,
     .max = 3600000},
    {0},
};
static const ps_option_spec nochoices_opts[] = {
    {.name = "mode", .type = PS_OPT_ENUM, .default_value = "a"},
    {0},
};

typedef struct dcase {
    const char *what;
    void (*mutate)(ps_plugin_descriptor *d);
    const char *expect; /* NULL = accepted */
} dcase;

static void m_none(ps_plugin_descriptor *d)
{
    (void)d;
}
static void m_major(ps_plugin_descriptor *d)
{
    d->abi_major = 3;
    d->abi_minor = 0;
}
static void m_minor(ps_plugin_descriptor *d)
{
    d->abi_minor = PS_ABI_MINOR + 1;
}
static void m_older_minor_ok(ps_plugin_descriptor *d)
{
    d->abi_minor = 0;
}
static void m_size(ps_plugin_descriptor *d)
{
    d->struct_size = 16;
}
static void m_size0(ps_plugin_descriptor *d)
{
    d->struct_size = 0;
}
/* What a 1.0 descriptor looks like read as 2.0: uint32 abi_major 1, abi_minor 0 first. */
static void m_legacy(ps_plugin_descriptor *d)
{
    uint32_t v1[2] = {1, 0};
    memcpy(&d->struct_size, v1, sizeof v1);
}
static const ps_sink_ops sink_ops_small = {8, s_open, s_write, s_commit, NULL, NULL, NULL, NULL};
static void m_sink_ops_size(ps_plugin_descriptor *d)
{
    d->sink = &sink_ops_small;
}
static const ps_provider_ops prov_ops_nosize = {
    .struct_size = 0, .open = p_open, .next_batch = p_next};
/* a provider built before `shape` was appended: tabular */
static const ps_provider_ops prov_ops_noshape = {.struct_size = offsetof(ps_provider_ops, shape),
                                                 .open = p_open,
                                                 .next_batch = p_next,
                                                 .shape = 7 /* beyond its size: never read */};
static void m_prov_noshape(ps_plugin_descriptor *d)
{
    d->kind = PS_PLUGIN_PROVIDER;
    d->sink = NULL;
    d->provider = &prov_ops_noshape;
}
static const ps_provider_ops prov_ops_badshape = {
    .struct_size = sizeof(ps_provider_ops), .open = p_open, .next_batch = p_next, .shape = 7};
static void m_prov_badshape(ps_plugin_descriptor *d)
{
    d->kind = PS_PLUGIN_PROVIDER;
    d->sink = NULL;
    d->provider = &prov_ops_badshape;
}
static void m_prov_ops_size(ps_plugin_descriptor *d)
{
    d->kind = PS_PLUGIN_PROVIDER;
    d->sink = NULL;
    d->provider = &prov_ops_nosize;
}
static void m_name(ps_plugin_descriptor *d)
{
    d->name = "Bad-Name";
}
static void m_noname(ps_plugin_descriptor *d)
{
    d->name = NULL;
}
static void m_version(ps_plugin_descriptor *d)
{
    d->version = NULL;
}
static void m_create(ps_plugin_descriptor *d)
{
    d->create = NULL;
}
static void m_destroy(ps_plugin_descriptor *d)
{
    d->destroy = NULL;
}
static void m_kind(ps_plugin_descriptor *d)
{
    d->kind = (ps_plugin_kind)7;
}
static void m_sink_null(ps_plugin_descriptor *d)
{
    d->sink = NULL;
}
static void m_sink_commit(ps_plugin_descriptor *d)
{
    d->sink = &sink_ops_nocommit;
}
static void m_provider_null(ps_plugin_descriptor *d)
{
    d->kind = PS_PLUGIN_PROVIDER;
    d->sink = NULL;
}
static void m_provider_next(ps_plugin_descriptor *d)
{
    d->kind = PS_PLUGIN_PROVIDER;
    d->provider = &prov_ops_nonext;
}
static void m_provider_ok(ps_plugin_descriptor *d)
{
    d->kind = PS_PLUGIN_PROVIDER;
    d->provider = &prov_ops;
}
static void m_opts_dup(ps_plugin_descriptor *d)
{
    d->options = dup_opts;
}
static void m_opts_type(ps_plugin_descriptor *d)
{
    d->options = badtype_opts;
}
static void m_opts_int(ps_plugin_descriptor *d)
{
    d->options = badint_opts;
}
static void m_opts_bool(ps_plugin_descriptor *d)
{
    d->options = badbool_opts;
}
static void m_opts_reserved(ps_plugin_descriptor *d)
{
    d->options = reserved_opts;
}
static void m_opts_secret(ps_plugin_descriptor *d)
{
    d->options = secretdefault_opts;
}
static void m_opts_range(ps_plugin_descriptor *d)
{
    d->options = range_opts;
}
static void m_opts_outofrange(ps_plugin_descriptor *d)
{
    d->options = outofrange_opts;
}
static void m_opts_nochoices(ps_plugin_descriptor *d)
{
    d->options = nochoices_opts;
}
static void m_opts_stride0(ps_plugin_descriptor *d)
{
    d->option_spec_size = 0;
}
static void m_opts_stride_short(ps_plugin_descriptor *d)
{
    d->option_spec_size = offsetof(ps_option_spec, flags);
}
static void m_opts_stride_longer(ps_plugin_descriptor *d)
{
    static const struct {
        ps_option_spec s;
        char later[24];
    } longer[] = {{{.name = "path", .type = PS_OPT_PATH}, "x"}, {{0}, ""}};
    d->options = &longer[0].s;
    d->option_spec_size = sizeof longer[0];
}
static void m_opts_none(ps_plugin_descriptor *d)
{
    d->options = NULL;
}

static const dcase dcases[] = {
    {"valid sink", m_none, NULL},
    {"older minor", m_older_minor_ok, NULL},
    {"valid provider", m_provider_ok, NULL},
    {"no options", m_opts_none, NULL},
    {"abi_major", m_major, "x.so: built for plugin ABI 3.0; this paysync loads ABI 2.x plugins"},
    {"abi 1.x layout", m_legacy, "x.so: built for plugin ABI 1.0; this paysync loads ABI 2.x"},
    {"abi_minor", m_minor, "x.so: abi_minor is 8, newer than this paysync's 2.7"},
    {"struct_size", m_size, "x.so: descriptor struct_size is 16, ABI 2.x needs at least"},
    {"struct_size 0", m_size0, "x.so: descriptor struct_size is 0, ABI 2.x needs at least"},
    {"sink ops size", m_sink_ops_size, "x.so: sink ops struct_size is 8, ABI 2.x needs at least"},
    {"provider ops without shape", m_prov_noshape, NULL},
    {"provider shape", m_prov_badshape, "x.so: provider->shape is 7, expected 0 (tabular) or 1"},
    {"provider ops size", m_prov_ops_size,
     "x.so: provider ops struct_size is 0, ABI 2.x needs at least"},
    {"name", m_name, "x.so: name 'Bad-Name' is invalid"},
    {"no name", m_noname, "x.so: name '(null)' is invalid"},
    {"version", m_version, "x.so: version is missing"},
    {"create", m_create, "x.so: create callback is NULL"},
    {"destroy", m_destroy, "x.so: destroy callback is NULL"},
    {"kind", m_kind, "x.so: kind is 7, expected 1 (provider) or 2 (sink)"},
    {"sink ops", m_sink_null, "x.so: kind is sink but the sink ops table is NULL"},
    {"sink commit", m_sink_commit, "x.so: sink->commit is NULL"},
    {"provider ops", m_provider_null, "x.so: kind is provider but the provider ops table is NULL"},
    {"provider next", m_provider_next, "x.so: provider->next_batch is NULL"},
    {"dup option", m_opts_dup, "x.so: options[1].name 'path' is a duplicate of options[0]"},
    {"option type", m_opts_type, "x.so: options[0] ('mode'): type 9 is unknown"},
    {"int default", m_opts_int,
     "x.so: options[0] ('batch'): default_value 'ten' is not a valid int"},
    {"bool default", m_opts_bool, "default_value 'maybe' is not a valid bool"},
    {"reserved option", m_opts_reserved, "options[0].name 'plugin' is invalid"},
    {"secret default", m_opts_secret, "default_value '***' is not a valid int"},
    {"option range", m_opts_range, "x.so: options[0] ('rows'): min 5 is above max 1"},
    {"default out of range", m_opts_outofrange,
     "x.so: options[0] ('wait'): default_value '2h' is not a valid duration (must be a duration "
     "of at most 1h"},
    {"enum without choices", m_opts_nochoices,
     "x.so: options[0] ('mode'): an enum needs 1 to 64 choices"},
    {"option_spec_size 0", m_opts_stride0,
     "x.so: option_spec_size is 0, this paysync needs at least"},
    {"option_spec_size short", m_opts_stride_short, "set it to sizeof(ps_option_spec)"},
    {"option_spec_size longer", m_opts_stride_longer, NULL},
};

/* The core reads only what a plugin's struct_size covers: a provider ops table built before
 * `shape` existed imports as tabular, whatever lies beyond its end. */
static void test_import_reads_within_struct_size(void **state)
{
    (void)state;
    ps_plugin_descriptor d = base_sink();
    m_prov_noshape(&d);
    ps_error err;
    assert_int_equal(ps_descriptor_check(&d, "x.so", &err), PS_OK);
    static ps_plugin p;
    memset(&p, 0, sizeof p);
    ps_descriptor_import(&p, &d);
    assert_ptr_equal(p.orig, &d);
    assert_int_equal(p.desc->struct_size, sizeof(ps_plugin_descriptor));
    assert_int_equal(p.desc->provider->struct_size, sizeof(ps_provider_ops));
    assert_ptr_equal(p.desc->provider->open, p_open);
    assert_ptr_equal(p.desc->provider->next_batch, p_next);
    assert_int_equal(p.desc->provider->shape, PS_SHAPE_TABULAR);
    assert_null(p.desc->sink);
}

static void test_descriptor_checks(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof dcases / sizeof dcases[0]; i++) {
        ps_plugin_descriptor d = base_sink();
        dcases[i].mutate(&d);
        ps_error err;
        ps_error_clear(&err);
        ps_status st = ps_descriptor_check(&d, "x.so", &err);
        if (!dcases[i].expect) {
            if (st != PS_OK)
                fail_msg("%s: unexpected refusal: %s", dcases[i].what, err.message);
            continue;
        }
        if (st != PS_ERR_PLUGIN || !strstr(err.message, dcases[i].expect))
            fail_msg("%s: got status %d message '%s', wanted '%s'", dcases[i].what, st, err.message,
                     dcases[i].expect);
    }
    ps_error err;
    assert_int_equal(ps_descriptor_check(NULL, "y.so", &err), PS_ERR_PLUGIN);
    assert_non_null(strstr(err.message, "y.so: the entry function returned NULL"));
}

/* ---- dlopen ------------------------------------------------------------------------------ */

static ps_registry *registry_on(const char *dir)
{
    unsetenv("PAYSYNC_PLUGIN_PATH");
    ps_registry *r = ps_registry_new();
    assert_non_null(r);
    char *dirs[1] = {(char *)dir};
    ps_error err;
    assert_int_equal(ps_registry_set_path(r, dirs, 1, &err), PS_OK);
    return r;
}

static void test_dlopen_good(void **state)
{
    (void)state;
    const char *dir = plugin_dir();
    if (!dir)
        skip();
    ps_registry *r = registry_on(dir);
    const ps_plugin *p = NULL;
    ps_error err;
    ps_status st = ps_registry_find(r, "good_provider", &p, &err);
    if (st != PS_OK)
        fail_msg("good_provider: %s", err.message);
    assert_string_equal(p->desc->name, "good_provider");
    assert_int_equal(p->desc->kind, PS_PLUGIN_PROVIDER);
    assert_non_null(strstr(p->path, "good_provider.so"));
    assert_non_null(p->handle);
    const ps_plugin *again = NULL;
    assert_int_equal(ps_registry_find(r, "good_provider", &again, &err), PS_OK);
    assert_ptr_equal(again, p); /* cached */
    ps_registry_free(r);
}

typedef struct bcase {
    const char *name;
    const char *expect;
} bcase;

static const bcase bad_plugins[] = {
    {"bad_abi_major", "bad_abi_major.so: built for plugin ABI 1.0; this paysync loads ABI 2.x "
                      "plugins: rebuild it against the paysync 2 headers"},
    {"newer_abi_minor", "newer_abi_minor.so: abi_minor is 8, newer than this paysync's 2.7"},
    {"no_entry", "no_entry.so: no entry function 'paysync_plugin_entry'"},
    {"bad_options", "bad_options.so: options[1].name 'path' is a duplicate of options[0]"},
    {"wrong_kind_ops", "wrong_kind_ops.so: kind is provider but the provider ops table is NULL"},
    {"name_mismatch", "name_mismatch.so: name is 'other_name' but the file is named"},
};

static void test_dlopen_refusals(void **state)
{
    (void)state;
    const char *dir = plugin_dir();
    if (!dir)
        skip();
    ps_registry *r = registry_on(dir);
    for (size_t i = 0; i < sizeof bad_plugins / sizeof bad_plugins[0]; i++) {
        const ps_plugin *p = (const ps_plugin *)1;
        ps_error err;
        ps_error_clear(&err);
        ps_status st = ps_registry_find(r, bad_plugins[i].name, &p, &err);
        if (st != PS_ERR_PLUGIN || !strstr(err.message, bad_plugins[i].expect))
            fail_msg("%s: status %d message '%s', wanted '%s'", bad_plugins[i].name, st,
                     err.message, bad_plugins[i].expect);
        assert_null(p);
        assert_non_null(strstr(err.message, dir)); /* names the file by its full path */
    }
    ps_registry_free(r);
}

static void test_not_found_and_bad_name(void **state)
{
    (void)state;
    const char *dir = plugin_dir();
    if (!dir)
        skip();
    ps_registry *r = registry_on(dir);
    const ps_plugin *p;
    ps_error err;
    assert_int_equal(ps_registry_find(r, "good_provder", &p, &err), PS_ERR_PLUGIN);
    assert_non_null(strstr(err.message, "plugin 'good_provder' not found"));
    assert_non_null(strstr(err.message, "did you mean 'good_provider'?"));
    assert_non_null(strstr(err.message, dir));
    assert_non_null(strstr(err.message, "PAYSYNC_PLUGIN_PATH"));
    assert_int_equal(ps_registry_find(r, "../etc/evil", &p, &err), PS_ERR_PLUGIN);
    assert_non_null(strstr(err.message, "plugin name '../etc/evil' is invalid"));
    ps_registry_free(r);
}

/* Copies the test plugin `name` into dir (mode 0755). */
static void copy_plugin(const char *dir, const char *name)
{
    char src[1024], dst[1024];
    snprintf(src, sizeof src, "%s/%s.so", plugin_dir(), name);
    snprintf(dst, sizeof dst, "%s/%s.so", dir, name);
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(chmod(dst, 0755), 0);
}

static void rm_tree(const char *dir, const char *name)
{
    char f[1024];
    snprintf(f, sizeof f, "%s/%s.so", dir, name);
    unlink(f);
    rmdir(dir);
}

static void test_writable_refused(void **state)
{
    (void)state;
    if (!plugin_dir())
        skip();
    char dir[] = "/tmp/ps_loader_XXXXXX";
    assert_non_null(mkdtemp(dir));
    copy_plugin(dir, "good_provider");
    char file[1100];
    snprintf(file, sizeof file, "%s/good_provider.so", dir);
    const ps_plugin *p;
    ps_error err;

    assert_int_equal(chmod(dir, 0777), 0);
    ps_registry *r = registry_on(dir);
    assert_int_equal(ps_registry_find(r, "good_provider", &p, &err), PS_ERR_PLUGIN);
    assert_non_null(strstr(err.message, file));
    assert_non_null(strstr(err.message, "directory"));
    assert_non_null(strstr(err.message, "writable by group or others"));
    assert_non_null(strstr(err.message, "chmod go-w"));
    ps_registry_free(r);

    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(chmod(file, 0666), 0);
    r = registry_on(dir);
    assert_int_equal(ps_registry_find(r, "good_provider", &p, &err), PS_ERR_PLUGIN);
    assert_non_null(strstr(err.message, "the file is writable by group or others (mode 666)"));
    assert_non_null(strstr(err.message, "chmod go-w"));
    ps_registry_free(r);

    assert_int_equal(chmod(file, 0775), 0); /* group-writable is refused too */
    r = registry_on(dir);
    assert_int_equal(ps_registry_find(r, "good_provider", &p, &err), PS_ERR_PLUGIN);
    ps_registry_free(r);

    assert_int_equal(chmod(file, 0755), 0);
    r = registry_on(dir);
    assert_int_equal(ps_registry_find(r, "good_provider", &p, &err), PS_OK);
    ps_registry_free(r);
    rm_tree(dir, "good_provider");
}

/* ---- StrictModes: the real path and every folder up to / ------------------------------ */

/* A temp folder under /tmp (sticky, so acceptable as a parent) with the given mode. */
static void make_dir(char *tmpl, mode_t mode)
{
    assert_non_null(mkdtemp(tmpl));
    assert_int_equal(chmod(tmpl, mode), 0);
}

static void sub_dir(char *out, size_t cap, const char *parent, const char *name, mode_t mode)
{
    snprintf(out, cap, "%s/%s", parent, name);
    assert_int_equal(mkdir(out, 0700), 0);
    assert_int_equal(chmod(out, mode), 0);
}

/* Loads `name` from dir; returns the status, the message in err. */
static ps_status find_in(const char *dir, const char *name, ps_error *err)
{
    ps_registry *r = registry_on(dir);
    const ps_plugin *p;
    ps_status st = ps_registry_find(r, name, &p, err);
    ps_registry_free(r);
    return st;
}

static void test_symlink_into_writable_folder_refused(void **state)
{
    (void)state;
    if (!plugin_dir())
        skip();
    char dir[] = "/tmp/ps_strict_dir_XXXXXX", ww[] = "/tmp/ps_strict_ww_XXXXXX";
    make_dir(dir, 0755);
    make_dir(ww, 0777); /* world-writable, not sticky */
    copy_plugin(ww, "good_provider");
    char link[1100], target[1100];
    snprintf(link, sizeof link, "%s/good_provider.so", dir);
    snprintf(target, sizeof target, "%s/good_provider.so", ww);
    assert_int_equal(symlink(target, link), 0);
    ps_error err;
    assert_int_equal(find_in(dir, "good_provider", &err), PS_ERR_PLUGIN);
    assert_non_null(strstr(err.message, link));
    assert_non_null(strstr(err.message, "(real path "));
    assert_non_null(strstr(err.message, target));
    char want[1200];
    snprintf(want, sizeof want,
             "refusing to load: its directory is writable by group or others (mode 777); fix "
             "with: chmod go-w '%s'",
             ww);
    assert_non_null(strstr(err.message, want));
    /* the same file through a symlink into a safe folder loads */
    assert_int_equal(chmod(ww, 0755), 0);
    assert_int_equal(find_in(dir, "good_provider", &err), PS_OK);
    unlink(link);
    rmdir(dir);
    rm_tree(ww, "good_provider");
}

static void test_folder_owned_by_other_user_refused(void **state)
{
    (void)state;
    if (!plugin_dir())
        skip();
    if (geteuid() != 0) {
        fprintf(stderr, "SKIP: chown to uid 65534 needs root (CI runs this as root)\n");
        skip();
    }
    char top[] = "/tmp/ps_strict_own_XXXXXX", dir[1100];
    make_dir(top, 0755);
    sub_dir(dir, sizeof dir, top, "plugins", 0755);
    copy_plugin(dir, "good_provider");
    ps_error err;
    assert_int_equal(find_in(dir, "good_provider", &err), PS_OK);

    /* the plugin's own folder owned by nobody */
    assert_int_equal(chown(dir, 65534, 65534), 0);
    assert_int_equal(find_in(dir, "good_provider", &err), PS_ERR_PLUGIN);
    char want[1200];
    snprintf(want, sizeof want,
             "refusing to load: its directory is owned by uid 65534 (mode 755), neither you "
             "nor root; fix with: chown root '%s'",
             dir);
    assert_non_null(strstr(err.message, want));

    /* a folder further up owned by nobody */
    assert_int_equal(chown(dir, 0, 0), 0);
    assert_int_equal(chown(top, 65534, 65534), 0);
    assert_int_equal(find_in(dir, "good_provider", &err), PS_ERR_PLUGIN);
    snprintf(want, sizeof want,
             "the directory above it is owned by uid 65534 (mode 755), neither you nor root; "
             "fix with: chown root '%s'",
             top);
    assert_non_null(strstr(err.message, want));

    /* the file owned by nobody */
    assert_int_equal(chown(top, 0, 0), 0);
    char file[1200];
    snprintf(file, sizeof file, "%s/good_provider.so", dir);
    assert_int_equal(chown(file, 65534, 65534), 0);
    assert_int_equal(find_in(dir, "good_provider", &err), PS_ERR_PLUGIN);
    assert_non_null(strstr(
        err.message, "refusing to load: the file is owned by uid 65534, neither you nor root"));
    rm_tree(dir, "good_provider");
    rmdir(top);
}

static void test_writable_parent_refused_sticky_parent_loads(void **state)
{
    (void)state;
    if (!plugin_dir())
        skip();
    char top[] = "/tmp/ps_strict_up_XXXXXX", mid[1100], dir[1100];
    make_dir(top, 0777); /* world-writable, not sticky: anyone can rename mid away */
    sub_dir(mid, sizeof mid, top, "mid", 0755);
    sub_dir(dir, sizeof dir, mid, "plugins", 0755);
    copy_plugin(dir, "good_provider");
    ps_error err;
    assert_int_equal(find_in(dir, "good_provider", &err), PS_ERR_PLUGIN);
    char want[1200];
    snprintf(want, sizeof want,
             "refusing to load: the directory above it is writable by group or others (mode "
             "777); fix with: chmod go-w '%s'",
             top);
    assert_non_null(strstr(err.message, want));

    /* group-writable setgid folder: the full mode is printed */
    assert_int_equal(chmod(top, 0755), 0);
    assert_int_equal(chmod(mid, 02775), 0);
    assert_int_equal(find_in(dir, "good_provider", &err), PS_ERR_PLUGIN);
    assert_non_null(strstr(err.message, "(mode 2775)"));

    /* sticky, like /tmp: entries can only be replaced by their owner (root or us) */
    assert_int_equal(chmod(mid, 0755), 0);
    assert_int_equal(chmod(top, 01777), 0);
    assert_int_equal(find_in(dir, "good_provider", &err), PS_OK);
    /* a sticky plugin folder itself holding a file of ours */
    assert_int_equal(chmod(dir, 01777), 0);
    assert_int_equal(find_in(dir, "good_provider", &err), PS_OK);
    /* a sticky file that is world-writable is refused with its full mode */
    char file[1200];
    snprintf(file, sizeof file, "%s/good_provider.so", dir);
    assert_int_equal(chmod(file, 01777), 0);
    assert_int_equal(find_in(dir, "good_provider", &err), PS_ERR_PLUGIN);
    assert_non_null(strstr(err.message, "the file is writable by group or others (mode 1777)"));
    rm_tree(dir, "good_provider");
    rmdir(mid);
    rmdir(top);
}

static void test_refused_plugin_constructor_never_runs(void **state)
{
    (void)state;
    if (!plugin_dir())
        skip();
    char top[] = "/tmp/ps_strict_ctor_XXXXXX", dir[1100], marker[1100];
    make_dir(top, 0777);
    sub_dir(dir, sizeof dir, top, "plugins", 0755);
    copy_plugin(dir, "ctor_marker");
    snprintf(marker, sizeof marker, "%s/ran", dir);
    setenv("PS_CTOR_MARKER", marker, 1);
    struct stat sb;
    ps_error err;
    assert_int_equal(find_in(dir, "ctor_marker", &err), PS_ERR_PLUGIN);
    assert_non_null(strstr(err.message, "writable by group or others (mode 777)"));
    assert_int_equal(stat(marker, &sb), -1); /* refused before dlopen: no code ran */

    /* trusted: dlopen runs the constructor (then it is refused: it has no entry function) */
    assert_int_equal(chmod(top, 0755), 0);
    assert_int_equal(find_in(dir, "ctor_marker", &err), PS_ERR_PLUGIN);
    assert_non_null(strstr(err.message, "no entry function"));
    assert_int_equal(stat(marker, &sb), 0);
    unsetenv("PS_CTOR_MARKER");
    unlink(marker);
    rm_tree(dir, "ctor_marker");
    rmdir(top);
}

static void test_load_file_resolves_symlink(void **state)
{
    (void)state;
    if (!plugin_dir())
        skip();
    /* test-plugin and the test host load one file through ps_registry_load_file */
    char dir[] = "/tmp/ps_strict_lf_XXXXXX", ww[] = "/tmp/ps_strict_lfw_XXXXXX";
    make_dir(dir, 0755);
    make_dir(ww, 0757);
    copy_plugin(ww, "good_provider");
    char link[1100], target[1100];
    snprintf(link, sizeof link, "%s/good_provider.so", dir);
    snprintf(target, sizeof target, "%s/good_provider.so", ww);
    assert_int_equal(symlink(target, link), 0);
    ps_registry *r = ps_registry_new();
    const ps_plugin *p;
    ps_error err;
    assert_int_equal(ps_registry_load_file(r, link, &p, &err), PS_ERR_PLUGIN);
    assert_non_null(strstr(err.message, "writable by group or others (mode 757)"));
    assert_int_equal(chmod(ww, 0755), 0);
    assert_int_equal(ps_registry_load_file(r, link, &p, &err), PS_OK);
    assert_string_equal(p->desc->name, "good_provider");
    ps_registry_free(r);
    unlink(link);
    rmdir(dir);
    rm_tree(ww, "good_provider");
}

static void test_stale_fd_name_not_reused(void **state)
{
    (void)state;
    if (!plugin_dir())
        skip();
    /* An object that outlives dlclose keeps its /proc/self/fd/N name: a later plugin opened
     * as the same fd number must still load its own file. */
    char dir[] = "/tmp/ps_strict_fd_XXXXXX";
    make_dir(dir, 0755);
    copy_plugin(dir, "good_provider");
    copy_plugin(dir, "bad_abi_major");
    char other[1100], via[64];
    snprintf(other, sizeof other, "%s/bad_abi_major.so", dir);
    int fd = open(other, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    snprintf(via, sizeof via, "/proc/self/fd/%d", fd);
    void *h = dlopen(via, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    assert_non_null(h);
    dlclose(h);
    assert_int_equal(close(fd), 0); /* the loader's open gets this number again */
    ps_registry *r = registry_on(dir);
    const ps_plugin *p;
    ps_error err;
    assert_int_equal(ps_registry_find(r, "good_provider", &p, &err), PS_OK);
    assert_string_equal(p->desc->name, "good_provider");
    assert_int_equal(p->fd, fd);
    ps_registry_free(r);
    unlink(other);
    rm_tree(dir, "good_provider");
}

static void test_search_path_order(void **state)
{
    (void)state;
    if (!plugin_dir())
        skip();
    char a[] = "/tmp/ps_loader_a_XXXXXX", b[] = "/tmp/ps_loader_b_XXXXXX",
         c[] = "/tmp/ps_loader_c_XXXXXX";
    assert_non_null(mkdtemp(a));
    assert_non_null(mkdtemp(b));
    assert_non_null(mkdtemp(c));
    copy_plugin(a, "good_provider");
    copy_plugin(b, "good_provider");
    copy_plugin(c, "good_provider");
    char env[256];
    snprintf(env, sizeof env, "%s::%s", a, b); /* empty entries are skipped */
    setenv("PAYSYNC_PLUGIN_PATH", env, 1);

    /* env only: first env directory wins */
    ps_registry *r = ps_registry_new();
    const ps_plugin *p;
    ps_error err;
    size_t n;
    const char *const *dirs = ps_registry_dirs(r, &n);
    /* no plugin folder next to this test executable (build/tests) */
    assert_int_equal(n, 2);
    assert_string_equal(dirs[0], a);
    assert_string_equal(dirs[1], b);
    assert_int_equal(ps_registry_find(r, "good_provider", &p, &err), PS_OK);
    assert_true(strncmp(p->path, a, strlen(a)) == 0);
    ps_registry_free(r);

    /* config plugin_path comes after the env */
    r = ps_registry_new();
    char *cfg[1] = {c};
    assert_int_equal(ps_registry_set_path(r, cfg, 1, &err), PS_OK);
    dirs = ps_registry_dirs(r, &n);
    assert_int_equal(n, 3);
    assert_string_equal(dirs[0], a);
    assert_string_equal(dirs[1], b);
    assert_string_equal(dirs[2], c);
    assert_int_equal(ps_registry_find(r, "good_provider", &p, &err), PS_OK);
    assert_true(strncmp(p->path, a, strlen(a)) == 0);
    ps_registry_free(r);

    /* without the env, the config's folder is used */
    unsetenv("PAYSYNC_PLUGIN_PATH");
    r = ps_registry_new();
    assert_int_equal(ps_registry_set_path(r, cfg, 1, &err), PS_OK);
    assert_int_equal(ps_registry_find(r, "good_provider", &p, &err), PS_OK);
    assert_true(strncmp(p->path, c, strlen(c)) == 0);
    ps_registry_free(r);

    /* a static registration wins over every directory */
    static ps_plugin_descriptor d;
    d = base_sink();
    d.name = "good_provider";
    r = ps_registry_new();
    assert_int_equal(ps_registry_add_static(r, &d, &err), PS_OK);
    assert_int_equal(ps_registry_find(r, "good_provider", &p, &err), PS_OK);
    assert_null(p->path);
    ps_registry_free(r);

    unsetenv("PAYSYNC_PLUGIN_PATH");
    rm_tree(a, "good_provider");
    rm_tree(b, "good_provider");
    rm_tree(c, "good_provider");
}

typedef struct scan_tally {
    int good, bad, statics;
    int saw_abi_error;
} scan_tally;

static void on_scan(void *ctx, const ps_plugin *p, const char *file, const ps_error *e)
{
    scan_tally *t = ctx;
    if (p && !p->path)
        t->statics++;
    else if (p)
        t->good++;
    else {
        t->bad++;
        assert_non_null(file);
        assert_non_null(e);
        if (strstr(e->message, "built for plugin ABI 1.0"))
            t->saw_abi_error = 1;
    }
}

static void test_scan(void **state)
{
    (void)state;
    if (!plugin_dir())
        skip();
    /* A private folder: other test plugins in PS_TEST_PLUGIN_DIR may crash on purpose. */
    char dir[] = "/tmp/ps_loader_scan_XXXXXX";
    assert_non_null(mkdtemp(dir));
    copy_plugin(dir, "good_provider");
    copy_plugin(dir, "bad_abi_major");
    copy_plugin(dir, "no_entry");
    ps_registry *r = registry_on(dir);
    static ps_plugin_descriptor d;
    d = base_sink();
    ps_error err;
    assert_int_equal(ps_registry_add_static(r, &d, &err), PS_OK);
    scan_tally t = {0, 0, 0, 0};
    ps_registry_scan(r, on_scan, &t);
    assert_int_equal(t.statics, 3); /* base_sink and the built-in sqlite and postgres stores */
    assert_int_equal(t.good, 1);    /* good_provider */
    assert_int_equal(t.bad, 2);     /* bad_abi_major, no_entry */
    assert_true(t.saw_abi_error);
    ps_registry_free(r);
    char f[1100];
    snprintf(f, sizeof f, "%s/bad_abi_major.so", dir);
    unlink(f);
    snprintf(f, sizeof f, "%s/no_entry.so", dir);
    unlink(f);
    rm_tree(dir, "good_provider");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_registration),
        cmocka_unit_test(test_descriptor_checks),
        cmocka_unit_test(test_import_reads_within_struct_size),
        cmocka_unit_test(test_dlopen_good),
        cmocka_unit_test(test_dlopen_refusals),
        cmocka_unit_test(test_not_found_and_bad_name),
        cmocka_unit_test(test_writable_refused),
        cmocka_unit_test(test_symlink_into_writable_folder_refused),
        cmocka_unit_test(test_folder_owned_by_other_user_refused),
        cmocka_unit_test(test_writable_parent_refused_sticky_parent_loads),
        cmocka_unit_test(test_refused_plugin_constructor_never_runs),
        cmocka_unit_test(test_load_file_resolves_symlink),
        cmocka_unit_test(test_stale_fd_name_not_reused),
        cmocka_unit_test(test_search_path_order),
        cmocka_unit_test(test_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
