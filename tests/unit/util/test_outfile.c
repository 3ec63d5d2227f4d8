/* Unit tests: core/src/util/outfile.c through the host table (outfile_* members): temp file
 * created exclusively next to the target, never through a symlink, published by rename,
 * discarded on failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin/host.h"

static char g_dir[256];

static int mkdir_tmp(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/ps-outfile-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int rm_tmp(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_publish_and_abort(void **state)
{
    (void)state;
    const ps_host *h = ps_host_get();
    char target[300], tmp[400];
    snprintf(target, sizeof target, "%s/sub/out.txt", g_dir);
    snprintf(tmp, sizeof tmp, "%s/sub/.out.txt.tmp-%ld", g_dir, (long)getpid());
    ps_error e;
    ps_error_clear(&e);
    ps_outfile *o = h->outfile_new(target, 1, &e);
    assert_non_null(o);
    assert_int_equal(h->outfile_begin(o, "H\n", 2, &e), PS_OK);
    struct stat st;
    assert_int_equal(lstat(tmp, &st), 0); /* temp next to the target */
    char *p = h->outfile_reserve(o, 16);
    assert_non_null(p);
    memcpy(p, "one\n", 4);
    h->outfile_advance(o, 4);
    assert_int_equal(h->outfile_commit(o, &e), PS_OK);
    assert_int_equal(h->outfile_begin(o, NULL, 0, &e), PS_OK);
    assert_int_equal(h->outfile_put(o, "dropped\n", 8), 0);
    h->outfile_abort(o);
    assert_null(slurp(target)); /* nothing visible before finish */
    assert_int_equal(h->outfile_finish(o, 1, &e), PS_OK);
    assert_string_equal(slurp(target), "H\none\n");
    assert_int_equal(stat(target, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_not_equal(lstat(tmp, &st), 0);
    /* a failed run leaves the previous output */
    assert_int_equal(h->outfile_begin(o, "H\n", 2, &e), PS_OK);
    assert_int_equal(h->outfile_put(o, "two\n", 4), 0);
    assert_int_equal(h->outfile_commit(o, &e), PS_OK);
    assert_int_equal(h->outfile_finish(o, 0, &e), PS_OK);
    assert_string_equal(slurp(target), "H\none\n");
    assert_int_not_equal(lstat(tmp, &st), 0);
    /* advancing past what was reserved is refused, and the run cannot publish */
    assert_int_equal(h->outfile_begin(o, NULL, 0, &e), PS_OK);
    assert_non_null(h->outfile_reserve(o, 4));
    h->outfile_advance(o, (size_t)1 << 40);
    assert_int_equal(h->outfile_check(o, &e), PS_ERR_SINK);
    assert_non_null(strstr(e.message, "cannot write '"));
    h->outfile_free(o); /* deletes the temp file */
    assert_int_not_equal(lstat(tmp, &st), 0);
    assert_string_equal(slurp(target), "H\none\n");
}

static void test_symlink_never_followed(void **state)
{
    (void)state;
    const ps_host *h = ps_host_get();
    char target[300], tmp[400], victim[300];
    snprintf(target, sizeof target, "%s/t.jsonl", g_dir);
    snprintf(tmp, sizeof tmp, "%s/.t.jsonl.tmp-%ld", g_dir, (long)getpid());
    snprintf(victim, sizeof victim, "%s/victim", g_dir);
    FILE *f = fopen(victim, "w");
    assert_non_null(f);
    fputs("keep", f);
    fclose(f);
    assert_int_equal(symlink(victim, tmp), 0); /* planted where the temp file goes */
    ps_error e;
    ps_error_clear(&e);
    ps_outfile *o = h->outfile_new(target, 0, &e);
    assert_int_equal(h->outfile_begin(o, "x\n", 2, &e), PS_OK);
    assert_int_equal(h->outfile_finish(o, 1, &e), PS_OK);
    h->outfile_free(o);
    assert_string_equal(slurp(victim), "keep");
    assert_string_equal(slurp(target), "x\n");
    unlink(tmp);
    /* errors name the file */
    assert_null(h->outfile_new("", 0, &e));
    assert_int_equal(e.code, PS_ERR_USAGE);
    snprintf(target, sizeof target, "%s/victim/under-a-file/out", g_dir);
    o = h->outfile_new(target, 0, &e);
    assert_int_equal(h->outfile_begin(o, NULL, 0, &e), PS_ERR_SINK);
    assert_non_null(strstr(e.message, "cannot create the folder of '"));
    h->outfile_free(o);
}

static void test_utf8_and_time(void **state)
{
    (void)state;
    const ps_host *h = ps_host_get();
    assert_int_equal(h->utf8_check("caf\xc3\xa9", 5), 5);
    assert_int_equal(h->utf8_check("ab\xc3", 3), 2);
    assert_int_equal(h->utf8_check("a\0b", 3), 1);
    char buf[32];
    assert_int_equal(h->time_format(1706702400000LL, buf, sizeof buf), 24);
    assert_string_equal(buf, "2024-01-31T12:00:00.000Z");
    assert_int_equal(h->time_format(1706702400123LL, buf, 25), 24);
    assert_string_equal(buf, "2024-01-31T12:00:00.123Z");
    assert_int_equal(h->time_format(0, buf, 24), 0); /* no room for the NUL */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_and_abort),
        cmocka_unit_test(test_symlink_never_followed),
        cmocka_unit_test(test_utf8_and_time),
    };
    return cmocka_run_group_tests(tests, mkdir_tmp, rm_tmp);
}
