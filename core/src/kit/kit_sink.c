/* paysync core: the conformance kit's sink checks. Path options always point into a fresh
 * temporary folder (never at the outputs a config names), and the records are synthetic
 * payments made by the core's own validator. */
#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/store_feed.h"
#include "kit/kit_checks.h"
#include "model/validate.h"
#include "store/store.h"
#include "util/bytescan.h"

#define KIT_RECORDS 25

typedef struct kit_records {
    ps_arena *arena;
    ps_validator *v;
    ps_record recs[KIT_RECORDS];
    uint8_t flags[KIT_RECORDS]; /* the record flags true of each record (PS_RECF_*) */
    size_t n;
    int with_flags; /* write_batch passes flags as ps_record_batch.record_flags */
} kit_records;

static void records_free(kit_records *kr)
{
    ps_validator_free(kr->v);
    ps_arena_destroy(kr->arena);
}

/* KIT_RECORDS payments: ids kit-001..., amounts with decimals, a few optional fields. */
static int records_make(kit_records *kr, const char *dataset)
{
    memset(kr, 0, sizeof *kr);
    ps_validate_config vc;
    memset(&vc, 0, sizeof vc);
    vc.dataset = dataset;
    ps_error err = {0};
    kr->arena = ps_arena_create(0);
    if (!kr->arena || ps_validator_new(&vc, &kr->v, &err) != PS_OK)
        return -1;
    for (size_t i = 0; i < KIT_RECORDS; i++) {
        char id[32], ts[40], amount[32], meter[32], name[48];
        snprintf(id, sizeof id, "kit-%03zu", i + 1);
        snprintf(ts, sizeof ts, "2024-01-%02zuT%02zu:15:00Z", 1 + i % 28, i % 24);
        snprintf(amount, sizeof amount, "%zu.%02zu", 100 + i * 37, i % 100);
        snprintf(meter, sizeof meter, "0%07zu", 4200 + i);
        snprintf(name, sizeof name, "Customer \xc3\x89%zu", i);
        ps_cell c[PS_FIELD_COUNT];
        const ps_cell *by[PS_FIELD_COUNT] = {0};
        const char *text[PS_FIELD_COUNT] = {0};
        text[PS_F_ID] = id;
        text[PS_F_TIMESTAMP] = ts;
        text[PS_F_PAYMENT_AMOUNT] = amount;
        text[PS_F_PAYMENT_CURRENCY] = i % 3 ? "NGN" : "KES";
        text[PS_F_TRANSACTION_TYPE] = "FULL_PAYMENT";
        text[PS_F_CUSTOMER_ID] = id;
        text[PS_F_METER_ID] = meter;
        text[PS_F_CUSTOMER_NAME] = name;
        text[PS_F_CUSTOMER_CATEGORY] = i % 2 ? "RESIDENTIAL" : "COMMERCIAL";
        for (int f = 0; f < PS_FIELD_COUNT; f++) {
            if (!text[f])
                continue;
            /* Records may point into their cells: the texts live in the arena too. */
            size_t len = strlen(text[f]);
            const char *copy = ps_arena_strndup(kr->arena, text[f], len);
            if (!copy)
                return -1;
            c[f] = (ps_cell){.text = copy, .len = (uint32_t)len, .kind = PS_CELL_TEXT};
            by[f] = &c[f];
        }
        ps_row_check chk;
        if (ps_validate_row(kr->v, by, i + 2, kr->arena, &kr->recs[kr->n], &chk) !=
            PS_ROW_ACCEPTED) {
            fprintf(stderr, "kit: test record %zu rejected: %s\n", i,
                    chk.n_errors ? chk.errors[0].message : "?");
            return -1;
        }
        /* what the core would say of it: a record the validator made has JSON numbers, and
         * is plain when no value holds a byte a JSON string must escape */
        const ps_record *rec = &kr->recs[kr->n];
        kr->flags[kr->n] = PS_RECF_NUMBERS | PS_RECF_PLAIN;
        for (int f = 0; f < PS_FIELD_COUNT; f++)
            for (size_t b = 0; rec->field[f].ptr && b < rec->field[f].len; b++)
                if (ps_json_must_escape((unsigned char)rec->field[f].ptr[b]))
                    kr->flags[kr->n] &= (uint8_t)~PS_RECF_PLAIN;
        kr->n++;
    }
    return 0;
}

/* Regular files under dir (recursively): count, names of the first few, and a digest of
 * their names and bytes. */
typedef struct dir_scan {
    size_t files;
    char names[200];
    EVP_MD_CTX *md;
} dir_scan;

static void scan_dir(const char *dir, const char *rel, dir_scan *s)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    /* Sorted order for a stable digest: collect, then sort. */
    char **names = NULL;
    size_t n = 0, cap = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        names[n] = strdup(e->d_name);
        if (names[n])
            n++;
    }
    closedir(d);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    for (size_t i = 0; i < n; i++) {
        char path[4096], relp[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(relp, sizeof relp, "%s%s%s", rel, rel[0] ? "/" : "", names[i]);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            scan_dir(path, relp, s);
        } else {
            s->files++;
            size_t used = strlen(s->names);
            if (used + strlen(relp) + 3 < sizeof s->names)
                snprintf(s->names + used, sizeof s->names - used, "%s%s", used ? ", " : "", relp);
            if (s->md) {
                EVP_DigestUpdate(s->md, relp, strlen(relp) + 1);
                FILE *f = fopen(path, "rb");
                if (f) {
                    char buf[65536];
                    size_t got;
                    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
                        EVP_DigestUpdate(s->md, buf, got);
                    fclose(f);
                }
            }
        }
        free(names[i]);
    }
    free(names);
}

typedef enum { SINK_ABORT, SINK_COMMIT } sink_end;

#define KIT_CURSOR "{\"kit\":1}"

static int sink_dataset(ps_kit_ctx *k, ps_kit_inst *in, sink_end end, const kit_records *kr,
                        const char *run_id, ps_change_counts *changes, char *why, size_t cap);
static int sink_finish(ps_kit_ctx *k, ps_kit_inst *in, int all_ok, char *why, size_t cap);
static int new_tmpdir(char *dir, size_t cap);

/* The store a PS_SINK_AFTER_STORE sink reads at commit (ps_commit_info.stored_payments): a
 * real SQLite store in its own temporary folder, holding the records the kit committed to it
 * just before, as `paysync run` commits the store before such sinks. */
typedef struct kit_store {
    char dir[64];
    ps_store_ref ref;
    const char *dataset;
} kit_store;

static ps_status kit_stored_payments(const ps_commit_info *info,
                                     int (*each)(void *ctx, const ps_record *rec), void *ctx,
                                     ps_error *err)
{
    const kit_store *ks = info->store_ctx;
    if (!ks || !each)
        return ps_error_setf(err, PS_ERR_INTERNAL, "stored_payments: no store context");
    return ps_store_feed_ref(&ks->ref, ks->dataset, each, ctx, err);
}

static void kit_store_drop(kit_store *ks)
{
    ps_store_ref_free(&ks->ref);
    if (ks->dir[0])
        ps_kit_rmtree(ks->dir);
    ks->dir[0] = '\0';
}

/* Commits kr's records (run run_id) into a fresh store. Returns 0, or -1 with why. */
static int kit_store_fill(const ps_kit_ctx *k, const kit_records *kr, const char *run_id,
                          kit_store *ks, char *why, size_t cap)
{
    memset(ks, 0, sizeof *ks);
    const ps_store_backend *b = ps_store_backend_find("sqlite");
    if (!b || new_tmpdir(ks->dir, sizeof ks->dir) != 0) {
        ks->dir[0] = '\0';
        snprintf(why, cap, "kit: cannot make the temporary store the sink reads");
        return -1;
    }
    char path[96];
    snprintf(path, sizeof path, "%s/store.db", ks->dir);
    ps_kv kv = {.key = (char *)"path", .value = path};
    ps_kit_ctx sk = {.desc = b->sink(), .opts = {.opts = &kv, .nopts = 1}};
    sk.opts.dataset = k->opts.dataset;
    ps_kit_inst in;
    ps_error err = {0};
    ps_change_counts ch;
    char swhy[300] = "";
    int rc = -1;
    if (ps_kit_instance_new(&sk, PS_KIT_OPTS_AS_GIVEN, NULL, NULL, &in, &err) != PS_OK) {
        snprintf(swhy, sizeof swhy, "%s", err.message);
    } else {
        rc = sink_dataset(&sk, &in, SINK_COMMIT, kr, run_id, &ch, swhy, sizeof swhy);
        if (rc == 0)
            rc = sink_finish(&sk, &in, 1, swhy, sizeof swhy);
        ps_kit_instance_free(&sk, &in);
    }
    if (rc == 0) {
        ks->ref.backend = b;
        ks->ref.location = b->locate(&kv, 1, ks->dir);
        ks->dataset = k->opts.dataset;
        if (!ks->ref.location) {
            snprintf(swhy, sizeof swhy, "out of memory");
            rc = -1;
        }
    }
    if (rc != 0) {
        snprintf(why, cap, "kit: the temporary store the sink reads: %s", swhy);
        kit_store_drop(ks);
    }
    return rc;
}

/* One dataset through an existing instance: open, two write_batch calls, then abort or
 * commit (changes filled when the sink tracks them). A PS_SINK_AFTER_STORE sink commits with
 * stored_payments over a temporary store holding the same records (kit_store). */
static int sink_dataset(ps_kit_ctx *k, ps_kit_inst *in, sink_end end, const kit_records *kr,
                        const char *run_id, ps_change_counts *changes, char *why, size_t cap)
{
    const ps_sink_ops *ops = k->desc->sink;
    ps_error err = {0};
    ps_sink_open_args oa = {.struct_size = sizeof oa,
                            .dataset = k->opts.dataset,
                            .target_level = PS_TARGET_PROJECT,
                            .target_id = "kit-site",
                            .run_id = run_id,
                            .started_ms = 1704067200000};
    if (ops->open(in->inst, &oa, &err) != PS_OK) {
        snprintf(why, cap, "open: %s", err.message[0] ? err.message : "(empty message)");
        return -1;
    }
    size_t half = kr->n / 2;
    ps_record_batch b1 = {.struct_size = sizeof b1,
                          .count = half,
                          .records = kr->recs,
                          .record_flags = kr->with_flags ? kr->flags : NULL};
    ps_record_batch b2 = {.struct_size = sizeof b2,
                          .count = kr->n - half,
                          .records = kr->recs + half,
                          .record_flags = kr->with_flags ? kr->flags + half : NULL};
    if (ops->write_batch(in->inst, &b1, &err) != PS_OK ||
        ops->write_batch(in->inst, &b2, &err) != PS_OK) {
        snprintf(why, cap, "write_batch: %s", err.message[0] ? err.message : "(empty message)");
        if (ops->abort)
            ops->abort(in->inst, "kit: write failed");
        return -1;
    }
    if (end == SINK_ABORT) {
        if (ops->abort)
            ops->abort(in->inst, "kit: abort check");
        return 0;
    }
    ps_commit_info ci = {.struct_size = sizeof ci,
                         .dataset = k->opts.dataset,
                         .run_id = run_id,
                         .cursor_json = KIT_CURSOR,
                         .started_ms = oa.started_ms,
                         .finished_ms = oa.started_ms + 1000,
                         .read = kr->n,
                         .accepted = kr->n};
    kit_store ks = {.dir = ""};
    if (k->desc->flags & PS_SINK_AFTER_STORE) {
        if (kit_store_fill(k, kr, run_id, &ks, why, cap) != 0) {
            if (ops->abort)
                ops->abort(in->inst, "kit: no store");
            return -1;
        }
        ci.stored_payments = kit_stored_payments;
        ci.store_ctx = &ks;
    }
    memset(changes, 0, sizeof *changes);
    changes->struct_size = sizeof *changes;
    ps_status st = ops->commit(in->inst, &ci, changes, &err);
    kit_store_drop(&ks);
    if (st != PS_OK) {
        snprintf(why, cap, "commit: %s", err.message[0] ? err.message : "(empty message)");
        if (ops->abort)
            ops->abort(in->inst, "kit: commit failed");
        return -1;
    }
    return 0;
}

static int sink_finish(ps_kit_ctx *k, ps_kit_inst *in, int all_ok, char *why, size_t cap)
{
    ps_error err = {0};
    if (k->desc->sink->finish && k->desc->sink->finish(in->inst, all_ok, &err) != PS_OK && all_ok) {
        snprintf(why, cap, "finish: %s", err.message[0] ? err.message : "(empty message)");
        return -1;
    }
    return 0;
}

static int new_tmpdir(char *dir, size_t cap)
{
    snprintf(dir, cap, "/tmp/paysync-kit-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int keeps_state(const ps_kit_ctx *k)
{
    return (k->desc->flags & PS_SINK_KEEPS_STATE) && k->desc->sink->load_cursor;
}

/* Files sinks: after open + writes + abort + finish(0) the folder holds no file. Sinks that
 * keep state: nothing of the aborted dataset persists (no cursor; a later commit of the same
 * records inserts them all). */
static void abort_with(ps_kit_ctx *k, ps_kit_result *r, const kit_records *kr, const char *dir)
{
    char why[380] = "";
    ps_kit_inst in;
    ps_error err = {0};
    if (ps_kit_instance_new(k, PS_KIT_OPTS_PATHS_IN, dir, NULL, &in, &err) != PS_OK) {
        ps_kit_set(r, strstr(err.message, "missing required") ? PS_KIT_SKIP : PS_KIT_FAIL,
                   "create: %s", err.message);
        return;
    }
    ps_change_counts ch;
    if (sink_dataset(k, &in, SINK_ABORT, kr, "20240101T000000Z-kit1", &ch, why, sizeof why) != 0) {
        ps_kit_set(r, PS_KIT_FAIL, "%s", why);
        ps_kit_instance_free(k, &in);
        return;
    }
    if (keeps_state(k)) {
        char *cur = k->desc->sink->load_cursor(in.inst, k->opts.dataset);
        if (cur) {
            ps_kit_set(r, PS_KIT_FAIL, "after abort load_cursor returned '%.200s' (expected NULL)",
                       cur);
            free(cur);
            ps_kit_instance_free(k, &in);
            return;
        }
        if (sink_dataset(k, &in, SINK_COMMIT, kr, "20240101T000000Z-kit2", &ch, why, sizeof why) !=
                0 ||
            sink_finish(k, &in, 1, why, sizeof why) != 0) {
            ps_kit_set(r, PS_KIT_FAIL, "commit after an abort: %s", why);
        } else if (ch.valid && (ch.inserted != kr->n || ch.changed || ch.unchanged)) {
            ps_kit_set(r, PS_KIT_FAIL,
                       "a commit after an aborted write of the same records reports inserted "
                       "%llu, changed %llu, unchanged %llu (expected %zu inserted): the aborted "
                       "records persisted",
                       (unsigned long long)ch.inserted, (unsigned long long)ch.changed,
                       (unsigned long long)ch.unchanged, kr->n);
        } else {
            ps_kit_set(r, PS_KIT_PASS,
                       "%zu records written, aborted: no cursor, a later commit inserts all %zu",
                       kr->n, kr->n);
        }
        ps_kit_instance_free(k, &in);
        return;
    }
    sink_finish(k, &in, 0, why, sizeof why);
    ps_kit_instance_free(k, &in);
    dir_scan s;
    memset(&s, 0, sizeof s);
    scan_dir(dir, "", &s);
    if (s.files)
        ps_kit_set(r, PS_KIT_FAIL, "after abort %zu file%s visible: %s", s.files,
                   s.files == 1 ? " is" : "s are", s.names);
    else
        ps_kit_set(r, PS_KIT_PASS, "%zu records written, aborted: nothing visible", kr->n);
}

static void check_abort(ps_kit_ctx *k, ps_kit_result *r)
{
    kit_records kr;
    char dir[64];
    if (records_make(&kr, k->opts.dataset) != 0 || new_tmpdir(dir, sizeof dir) != 0) {
        records_free(&kr);
        ps_kit_set(r, PS_KIT_FAIL, "kit: cannot make test records or a temporary folder");
        return;
    }
    abort_with(k, r, &kr, dir);
    ps_kit_rmtree(dir);
    records_free(&kr);
}

/* A fresh instance in a fresh folder commits the records; digest of what it wrote. */
static int commit_digest(ps_kit_ctx *k, const kit_records *kr, unsigned char out[32], dir_scan *s,
                         char *why, size_t cap)
{
    char dir[64];
    if (new_tmpdir(dir, sizeof dir) != 0) {
        snprintf(why, cap, "kit: cannot make a temporary folder");
        return -1;
    }
    ps_kit_inst in;
    ps_error err = {0};
    ps_change_counts ch;
    int rc = -1;
    if (ps_kit_instance_new(k, PS_KIT_OPTS_PATHS_IN, dir, NULL, &in, &err) != PS_OK) {
        snprintf(why, cap, "create: %s", err.message);
    } else {
        rc = sink_dataset(k, &in, SINK_COMMIT, kr, "20240101T000000Z-kit1", &ch, why, cap);
        if (rc == 0)
            rc = sink_finish(k, &in, 1, why, cap);
        ps_kit_instance_free(k, &in);
    }
    if (rc == 0) {
        memset(s, 0, sizeof *s);
        s->md = EVP_MD_CTX_new();
        unsigned int dl = 0;
        if (!s->md || !EVP_DigestInit_ex(s->md, EVP_sha256(), NULL)) {
            snprintf(why, cap, "kit: out of memory");
            rc = -1;
        } else {
            scan_dir(dir, "", s);
            EVP_DigestFinal_ex(s->md, out, &dl);
        }
        EVP_MD_CTX_free(s->md);
        s->md = NULL;
    }
    ps_kit_rmtree(dir);
    return rc;
}

/* Sinks that keep state: the same records committed twice into one store (the second time
 * with their record flags, which are hints): the second run changes nothing, and the cursor
 * comes back. */
static void commit_state(ps_kit_ctx *k, ps_kit_result *r, kit_records *kr)
{
    char dir[64], why[380] = "";
    if (new_tmpdir(dir, sizeof dir) != 0) {
        ps_kit_set(r, PS_KIT_FAIL, "kit: cannot make a temporary folder");
        return;
    }
    ps_kit_inst in;
    ps_error err = {0};
    ps_change_counts c1, c2;
    if (ps_kit_instance_new(k, PS_KIT_OPTS_PATHS_IN, dir, NULL, &in, &err) != PS_OK) {
        ps_kit_set(r, PS_KIT_FAIL, "create: %s", err.message);
        ps_kit_rmtree(dir);
        return;
    }
    kr->with_flags = 0;
    int rc = sink_dataset(k, &in, SINK_COMMIT, kr, "20240101T000000Z-kit1", &c1, why, sizeof why);
    kr->with_flags = 1;
    if (rc ||
        sink_dataset(k, &in, SINK_COMMIT, kr, "20240101T000001Z-kit2", &c2, why, sizeof why) ||
        sink_finish(k, &in, 1, why, sizeof why)) {
        ps_kit_set(r, PS_KIT_FAIL, "%s", why);
    } else {
        char *cur = k->desc->sink->load_cursor(in.inst, k->opts.dataset);
        if (!cur || strcmp(cur, KIT_CURSOR) != 0)
            ps_kit_set(r, PS_KIT_FAIL, "load_cursor after a commit returned %s%.200s%s, not %s",
                       cur ? "'" : "NULL", cur ? cur : "", cur ? "'" : "", KIT_CURSOR);
        else if (c2.valid && (c2.inserted || c2.changed || c2.unchanged != kr->n))
            ps_kit_set(r, PS_KIT_FAIL,
                       "the second commit of the same %zu records reports inserted %llu, "
                       "changed %llu, unchanged %llu",
                       kr->n, (unsigned long long)c2.inserted, (unsigned long long)c2.changed,
                       (unsigned long long)c2.unchanged);
        else
            ps_kit_set(r, PS_KIT_PASS,
                       "%zu records committed twice: the second run changed nothing%s; cursor "
                       "round trip",
                       kr->n, c2.valid ? " (all unchanged)" : "");
        free(cur);
    }
    ps_kit_instance_free(k, &in);
    ps_kit_rmtree(dir);
}

static void check_commit(ps_kit_ctx *k, ps_kit_result *r)
{
    kit_records kr;
    char why[380] = "";
    if (records_make(&kr, k->opts.dataset) != 0) {
        records_free(&kr);
        ps_kit_set(r, PS_KIT_FAIL, "kit: cannot make test records");
        return;
    }
    if (keeps_state(k)) {
        commit_state(k, r, &kr);
        records_free(&kr);
        return;
    }
    /* the second commit passes the records' true record flags (ABI 2.5, PS_RECF_NUMBERS 2.7):
     * hints that may spare the sink work, never a reason to write other bytes */
    unsigned char a[32], b[32];
    dir_scan sa, sb;
    int rc = commit_digest(k, &kr, a, &sa, why, sizeof why);
    kr.with_flags = 1;
    if (rc != 0 || commit_digest(k, &kr, b, &sb, why, sizeof why) != 0)
        ps_kit_set(r, strstr(why, "missing required") ? PS_KIT_SKIP : PS_KIT_FAIL, "%s", why);
    else if (sa.files != sb.files || memcmp(a, b, sizeof a) != 0)
        ps_kit_set(r, PS_KIT_FAIL,
                   "two commits of the same records differ, the second with their record_flags "
                   "(PS_RECF_PLAIN, PS_RECF_NUMBERS: hints, the bytes written must not change) "
                   "(%zu files: %s; then %zu: %s)",
                   sa.files, sa.names, sb.files, sb.names);
    else
        ps_kit_set(r, PS_KIT_PASS, "%zu records committed twice: same %zu file%s%s%s", kr.n,
                   sa.files, sa.files == 1 ? "" : "s", sa.files ? ": " : "", sa.names);
    records_free(&kr);
}

int ps_kit_sink_write_sample(ps_kit_ctx *k, size_t n, char *why, size_t cap)
{
    kit_records kr;
    if (records_make(&kr, k->opts.dataset) != 0) {
        records_free(&kr);
        snprintf(why, cap, "kit: cannot make test records");
        return -1;
    }
    if (n < kr.n)
        kr.n = n;
    ps_kit_inst in;
    ps_error err = {0};
    ps_change_counts ch;
    int rc = -1;
    if (ps_kit_instance_new(k, PS_KIT_OPTS_AS_GIVEN, NULL, NULL, &in, &err) != PS_OK) {
        snprintf(why, cap, "create: %s", err.message);
    } else {
        rc = sink_dataset(k, &in, SINK_COMMIT, &kr, "20240101T000000Z-test", &ch, why, cap);
        if (rc == 0)
            rc = sink_finish(k, &in, 1, why, cap);
        ps_kit_instance_free(k, &in);
    }
    records_free(&kr);
    return rc;
}

const ps_kit_check ps_kit_sink_checks[] = {
    {"options", ps_kit_check_options},
    {"create/destroy", ps_kit_check_create_destroy},
    {"abort leaves nothing", check_abort},
    {"commit repeatable", check_commit},
    {NULL, NULL},
};
