/* Unit tests of a brand-new SQLite store built in a side file (store/sqlite_build.c and the
 * writer's build path, docs/sinks.md "A new store"): while the store file does not exist the
 * first dataset goes into STORE-build and the store appears whole at its commit, in WAL mode,
 * with its meter index and trigger; a build killed midway leaves only the side file, which the
 * next writer takes over; a symbolic link at the side file's name is never followed; a store
 * created by someone else meanwhile is never overwritten; a second instance waits for the
 * first's build instead of creating the store under it. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sink_test_host.h"
#include "store/sqlite_store.h"

typedef sth_sink fx;

static int setup(void **state)
{
    fx *f = sth_sink_new(ps_store_sqlite_sink(), "store", "store.db");
    assert_non_null(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    assert_int_equal(sth_sink_free(*state), 0);
    return 0;
}

static int exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* path + suffix into buf. */
static const char *with(const fx *f, const char *suffix, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%s", f->path, suffix);
    return buf;
}

/* First column of the first row of sql as text ("" for none), on another connection. */
static const char *q1(const char *path, const char *sql, char *buf, size_t cap)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    buf[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return buf;
}

static long long qint(const char *path, const char *sql)
{
    char buf[64];
    return atoll(q1(path, sql, buf, sizeof buf));
}

static void recs(ps_record r[3])
{
    sth_record(&r[0], "A", "2024-01-01T08:00:00.000Z", 1704096000000, "100.50");
    sth_record(&r[1], "B", "2024-01-01T09:00:00.000Z", 1704099600000, "7");
    sth_record(&r[2], "C", "2024-01-02T10:00:00.000Z", 1704189600000, "-0.0001");
    r[1].field[PS_F_METER_ID] = ps_str_from("M2");
    r[2].field[PS_F_METER_ID] = (ps_str){0};
    for (int i = 1; i < 3; i++)
        sth_finish_record(&r[i]);
}

static ps_status open_write(fx *f, const char *dataset, const ps_record *r, size_t n, ps_error *err)
{
    ps_sink_open_args oa = {sizeof(oa), dataset, PS_TARGET_PROJECT, "site-1", "run-1", 1000};
    return sth_sink_write(f, &oa, r, n, err);
}

static ps_status commit(fx *f, const char *dataset, size_t n, ps_change_counts *cc, ps_error *err)
{
    ps_commit_info ci = {.struct_size = sizeof ci,
                         .dataset = dataset,
                         .run_id = "run-1",
                         .started_ms = 1000,
                         .finished_ms = 2000,
                         .read = n,
                         .accepted = n};
    return f->d->sink->commit(f->inst, &ci, cc, err);
}

/* Creates the instance (a new store: the build starts) and writes recs() into dataset ds,
 * uncommitted. */
static void start_build(fx *f, ps_record r[3])
{
    ps_error err = {0};
    assert_int_equal(sth_sink_create(f, &err), PS_OK);
    recs(r);
    if (open_write(f, "ds", r, 3, &err) != PS_OK)
        fail_msg("open/write: %s", err.message);
}

/* The store holds exactly the three records of recs() in dataset ds, with its meter index,
 * in WAL mode, and nothing of a build is left beside it. */
static void assert_built(fx *f, const char *ds)
{
    char buf[512], sql[256];
    assert_string_equal(q1(f->path, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    assert_string_equal(q1(f->path, "PRAGMA integrity_check", buf, sizeof buf), "ok");
    snprintf(sql, sizeof sql,
             "SELECT group_concat(id) FROM (SELECT id FROM payments WHERE"
             " dataset = '%s' ORDER BY id)",
             ds);
    assert_string_equal(q1(f->path, sql, buf, sizeof buf), "A,B,C");
    snprintf(sql, sizeof sql,
             "SELECT group_concat(meter_id || ':' || id) FROM (SELECT * FROM"
             " payments_meter_idx WHERE dataset = '%s' ORDER BY 1)",
             ds);
    assert_string_equal(q1(f->path, sql, buf, sizeof buf), "M1:A,M2:B");
    /* the trigger the build dropped is back, the dataset no longer deferred */
    assert_int_equal(qint(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
                                   " AND name = 'payments_meter_ins'"),
                     1);
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments_meter_deferred"), 0);
    assert_int_equal(qint(f->path, "SELECT count(*) FROM sqlite_master WHERE name IN"
                                   " ('payments_dataset_time', 'payments_target_time')"),
                     2);
    assert_false(exists(with(f, "-build", buf, sizeof buf)));
    assert_false(exists(with(f, "-build-journal", buf, sizeof buf)));
    assert_false(exists(with(f, "-build-wal", buf, sizeof buf)));
}

static void test_new_store_built_aside(void **state)
{
    fx *f = *state;
    ps_error err = {0};
    char buf[512];
    assert_int_equal(sth_sink_create(f, &err), PS_OK);
    /* nothing at the store's name: readers see no store at all until the commit */
    assert_false(exists(f->path));
    assert_true(exists(with(f, "-build", buf, sizeof buf)));
    ps_record r[3];
    recs(r);
    assert_int_equal(open_write(f, "ds", r, 3, &err), PS_OK);
    assert_false(exists(f->path));
    ps_change_counts cc = {.struct_size = sizeof cc};
    assert_int_equal(commit(f, "ds", 3, &cc, &err), PS_OK);
    assert_int_equal(cc.inserted, 3);
    assert_built(f, "ds");
    /* the next dataset of the same run goes into the store itself, the trigger at work */
    assert_int_equal(open_write(f, "two", r, 3, &err), PS_OK);
    assert_int_equal(commit(f, "two", 3, &cc, &err), PS_OK);
    assert_built(f, "two");
    /* and a later writer finds it as any existing store */
    assert_int_equal(f->d->sink->finish(f->inst, 1, &err), PS_OK);
    f->d->destroy(f->inst);
    f->h.nlogs = 0;
    assert_int_equal(sth_sink_create(f, &err), PS_OK);
    assert_int_equal(f->h.nlogs, 0);
    char *cur = f->d->sink->load_cursor(f->inst, "ds");
    free(cur);
    assert_int_equal(open_write(f, "ds", r, 2, &err), PS_OK);
    assert_int_equal(commit(f, "ds", 2, &cc, &err), PS_OK);
    assert_int_equal(cc.unchanged, 2);
}

/* A run with nothing to store still leaves a store (empty), as before the side file. */
static void test_nothing_written_publishes_empty_store(void **state)
{
    fx *f = *state;
    ps_error err = {0};
    assert_int_equal(sth_sink_create(f, &err), PS_OK);
    assert_false(exists(f->path));
    assert_int_equal(f->d->sink->finish(f->inst, 1, &err), PS_OK);
    assert_true(exists(f->path));
    char buf[64];
    assert_string_equal(q1(f->path, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments"), 0);
}

/* An aborted first load: the side file goes; the store is created in place and records the
 * failed run, with no payment. */
static void test_aborted_build(void **state)
{
    fx *f = *state;
    char buf[512];
    ps_record r[3];
    start_build(f, r);
    f->d->sink->abort(f->inst, "source failed");
    assert_false(exists(with(f, "-build", buf, sizeof buf)));
    ps_commit_info ci = {.struct_size = sizeof ci, .dataset = "ds", .run_id = "run-1"};
    f->d->sink->record_failure(f->inst, &ci, "source failed");
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments"), 0);
    assert_string_equal(q1(f->path, "SELECT outcome || ':' || error FROM runs", buf, sizeof buf),
                        "failed:source failed");
    assert_string_equal(q1(f->path, "PRAGMA journal_mode", buf, sizeof buf), "wal");
}

/* A build killed midway (a child process killed by SIGKILL from outside once it has written,
 * without closing anything) leaves only the side file; the next writer removes it and builds
 * the store from scratch in a new one. The kill comes from the parent: valgrind (CI) runs its
 * leak check in a child that exits or signals itself, and would report the store it left open. */
static void test_killed_build_taken_over(void **state)
{
    fx *f = *state;
    char buf[512];
    ps_record r[3];
    recs(r);
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ps_error e = {0};
        close(ready[0]);
        sth_set(&f->h, "chunk_rows", "1"); /* chunks committed in the side file */
        if (sth_sink_create(f, &e) != PS_OK || open_write(f, "old", r, 3, &e) != PS_OK)
            _exit(2);
        if (write(ready[1], "w", 1) != 1)
            _exit(3);
        for (;;)
            pause(); /* until the parent's SIGKILL */
    }
    close(ready[1]);
    char c = 0;
    ssize_t got = read(ready[0], &c, 1); /* 0 (EOF): the child ended before writing */
    close(ready[0]);
    if (got == 1)
        assert_int_equal(kill(pid, SIGKILL), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(got, 1);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_false(exists(f->path));
    assert_true(exists(with(f, "-build", buf, sizeof buf)));
    /* as a killed publish of an earlier attempt would leave it */
    assert_int_equal(sth_write_file(with(f, "-build-wal", buf, sizeof buf), "stale wal"), 0);
    ps_error err = {0};
    assert_int_equal(sth_sink_create(f, &err), PS_OK);
    assert_int_equal(open_write(f, "ds", r, 3, &err), PS_OK);
    ps_change_counts cc = {.struct_size = sizeof cc};
    assert_int_equal(commit(f, "ds", 3, &cc, &err), PS_OK);
    assert_built(f, "ds");
    /* nothing of the killed build */
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments WHERE dataset = 'old'"), 0);
    assert_int_equal(qint(f->path, "SELECT count(*) FROM runs WHERE dataset = 'old'"), 0);
}

/* A symbolic link at the side file's name is neither followed nor removed: the store is
 * created in place (a warning says why) and the link's target is untouched. */
static void test_symlink_at_side_file(void **state)
{
    fx *f = *state;
    char side[512], victim[512];
    snprintf(victim, sizeof victim, "%s/victim", f->dir);
    assert_int_equal(sth_write_file(victim, "precious"), 0);
    assert_int_equal(symlink(victim, with(f, "-build", side, sizeof side)), 0);
    ps_error err = {0};
    assert_int_equal(sth_sink_create(f, &err), PS_OK);
    assert_int_equal(f->h.last_level, PS_LOG_WARN);
    assert_non_null(strstr(f->h.last_log, "is a symbolic link"));
    assert_true(exists(f->path)); /* created in place */
    ps_record r[3];
    recs(r);
    assert_int_equal(open_write(f, "ds", r, 3, &err), PS_OK);
    ps_change_counts cc = {.struct_size = sizeof cc};
    assert_int_equal(commit(f, "ds", 3, &cc, &err), PS_OK);
    assert_int_equal(cc.inserted, 3);
    char *text = sth_slurp(victim);
    assert_string_equal(text, "precious");
    free(text);
    struct stat sb;
    assert_int_equal(lstat(side, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    /* a dangling link too */
    assert_int_equal(unlink(victim), 0);
    f->d->destroy(f->inst);
    f->inst = NULL;
    assert_int_equal(unlink(f->path), 0);
    unlink(with(f, "-wal", victim, sizeof victim));
    unlink(with(f, "-shm", victim, sizeof victim));
    assert_int_equal(sth_sink_create(f, &err), PS_OK);
    assert_non_null(strstr(f->h.last_log, "is a symbolic link"));
    snprintf(victim, sizeof victim, "%s/victim", f->dir);
    assert_false(exists(victim));
}

/* A regular file already at the side file's name (a killed build's, or a second name of
 * another file: a hard link) is never written in place: the writer removes it and creates its
 * own side file exclusively, so the other file keeps its bytes and the store is built aside. */
static void test_hard_link_at_side_file(void **state)
{
    fx *f = *state;
    char side[512], victim[512];
    snprintf(victim, sizeof victim, "%s/victim", f->dir);
    assert_int_equal(sth_write_file(victim, "precious"), 0);
    assert_int_equal(link(victim, with(f, "-build", side, sizeof side)), 0);
    ps_record r[3];
    recs(r);
    ps_error err = {0};
    assert_int_equal(sth_sink_create(f, &err), PS_OK);
    assert_int_equal(open_write(f, "ds", r, 3, &err), PS_OK);
    ps_change_counts cc = {.struct_size = sizeof cc};
    assert_int_equal(commit(f, "ds", 3, &cc, &err), PS_OK);
    assert_built(f, "ds");
    char *text = sth_slurp(victim);
    assert_string_equal(text, "precious");
    free(text);
    struct stat sb;
    assert_int_equal(stat(victim, &sb), 0);
    assert_int_equal(sb.st_nlink, 1); /* the side file's name was removed, not reused */
}

/* A store that appears at the store's name while the build runs is never overwritten: the
 * build's commit fails and says so, the side file goes, the other store is as it was. */
static void test_store_created_meanwhile(void **state)
{
    fx *f = *state;
    ps_error err = {0};
    char buf[512];
    ps_record r[3];
    start_build(f, r);
    sqlite3 *other = NULL;
    assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "CREATE TABLE theirs (x); INSERT INTO theirs VALUES (42)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(other);
    ps_change_counts cc = {.struct_size = sizeof cc};
    assert_int_equal(commit(f, "ds", 3, &cc, &err), PS_ERR_SINK);
    assert_non_null(strstr(err.message, "was created by another process while this run built it"));
    assert_non_null(strstr(err.message, f->path));
    assert_int_equal(qint(f->path, "SELECT x FROM theirs"), 42);
    assert_false(exists(with(f, "-build", buf, sizeof buf)));
}

/* Two instances on one new store: the second waits for the first's build (no store created
 * under it); writing a dataset meanwhile fails with the reason; once the store is published
 * the second reads it. */
static void test_second_instance_waits_for_build(void **state)
{
    fx *f = *state;
    ps_error err = {0};
    assert_int_equal(sth_sink_create(f, &err), PS_OK);
    sth_host h2;
    sth_init(&h2, "store2");
    sth_set(&h2, "path", f->path);
    void *i2 = NULL;
    assert_int_equal(f->d->create(&h2.ctx, &i2, &err), PS_OK);
    assert_int_equal(h2.nlogs, 0);
    assert_false(exists(f->path));
    assert_null(f->d->sink->load_cursor(i2, "ds"));
    ps_sink_open_args oa = {sizeof(oa), "other", PS_TARGET_PROJECT, NULL, "run-2", 1000};
    assert_int_equal(f->d->sink->open(i2, &oa, &err), PS_ERR_SINK);
    assert_non_null(strstr(err.message, "is being created by another run"));
    assert_false(exists(f->path));
    ps_record r[3];
    recs(r);
    assert_int_equal(open_write(f, "ds", r, 3, &err), PS_OK);
    ps_commit_info ci = {.struct_size = sizeof ci,
                         .dataset = "ds",
                         .run_id = "run-1",
                         .cursor_json = "{\"p\":1}",
                         .read = 3,
                         .accepted = 3};
    ps_change_counts cc = {.struct_size = sizeof cc};
    assert_int_equal(f->d->sink->commit(f->inst, &ci, &cc, &err), PS_OK);
    assert_built(f, "ds");
    char *cur = f->d->sink->load_cursor(i2, "ds");
    assert_string_equal(cur, "{\"p\":1}");
    free(cur);
    assert_int_equal(f->d->sink->open(i2, &oa, &err), PS_OK);
    ps_record_batch b = {.struct_size = sizeof(b), .count = 1, .records = r};
    assert_int_equal(f->d->sink->write_batch(i2, &b, &err), PS_OK);
    ci.dataset = "other";
    ci.run_id = "run-2";
    assert_int_equal(f->d->sink->commit(i2, &ci, &cc, &err), PS_OK);
    assert_int_equal(qint(f->path, "SELECT count(*) FROM payments WHERE dataset = 'other'"), 1);
    f->d->destroy(i2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_store_built_aside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_written_publishes_empty_store, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_aborted_build, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_build_taken_over, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_at_side_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hard_link_at_side_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_created_meanwhile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_instance_waits_for_build, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
