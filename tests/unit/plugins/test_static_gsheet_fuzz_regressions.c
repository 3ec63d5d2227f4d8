/* Unit test: replays every saved fuzz input through the same entry points as the libFuzzer
 * harnesses (tests/fuzz/fuzz_*.c, included here under their own names): the crash inputs kept
 * as regression cases in tests/fuzz/regressions/<harness>/ and the seed corpora in
 * tests/fuzz/corpus/<harness>/. A harness aborts when an invariant breaks, so this runs them
 * under the normal test suite, ASan and valgrind too. Needs $PS_SOURCE_DIR. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#define PS_FUZZ_ENTRY fz_csv
#include "../../fuzz/fuzz_csv.c"
#undef PS_FUZZ_ENTRY
#define PS_FUZZ_ENTRY fz_config
#include "../../fuzz/fuzz_config.c"
#undef PS_FUZZ_ENTRY
#define PS_FUZZ_ENTRY fz_timestamp
#include "../../fuzz/fuzz_timestamp.c"
#undef PS_FUZZ_ENTRY
#define PS_FUZZ_ENTRY fz_decimal
#include "../../fuzz/fuzz_decimal.c"
#undef PS_FUZZ_ENTRY
#define PS_FUZZ_ENTRY fz_amount
#include "../../fuzz/fuzz_amount.c"
#undef PS_FUZZ_ENTRY
#define PS_FUZZ_ENTRY fz_currency
#include "../../fuzz/fuzz_currency.c"
#undef PS_FUZZ_ENTRY
#define PS_FUZZ_ENTRY fz_phone
#include "../../fuzz/fuzz_phone.c"
#undef PS_FUZZ_ENTRY
#define PS_FUZZ_ENTRY fz_digitre
#include "../../fuzz/fuzz_digitre.c"
#undef PS_FUZZ_ENTRY
#define PS_FUZZ_ENTRY fz_serve_query
#include "../../fuzz/fuzz_serve_query.c"
#undef PS_FUZZ_ENTRY
#define PS_FUZZ_ENTRY fz_gs_values
#include "../../fuzz/fuzz_gs_values.c"
#undef PS_FUZZ_ENTRY
#define PS_FUZZ_ENTRY fz_gs_meta
#include "../../fuzz/fuzz_gs_meta.c"
#undef PS_FUZZ_ENTRY
#define PS_FUZZ_ENTRY fz_gs_sakey
#include "../../fuzz/fuzz_gs_sakey.c"
#undef PS_FUZZ_ENTRY
#define PS_FUZZ_ENTRY fz_gs_encode
#include "../../fuzz/fuzz_gs_encode.c"
#undef PS_FUZZ_ENTRY

typedef int (*fz_fn)(const uint8_t *, size_t);

typedef struct fz_harness {
    const char *name;
    fz_fn fn;
} fz_harness;

static const fz_harness harnesses[] = {
    {"fuzz_csv", fz_csv},
    {"fuzz_config", fz_config},
    {"fuzz_timestamp", fz_timestamp},
    {"fuzz_decimal", fz_decimal},
    {"fuzz_amount", fz_amount},
    {"fuzz_currency", fz_currency},
    {"fuzz_phone", fz_phone},
    {"fuzz_digitre", fz_digitre},
    {"fuzz_serve_query", fz_serve_query},
    {"fuzz_gs_values", fz_gs_values},
    {"fuzz_gs_meta", fz_gs_meta},
    {"fuzz_gs_sakey", fz_gs_sakey},
    {"fuzz_gs_encode", fz_gs_encode},
};

/* Reads path into an exactly sized heap buffer (so ASan sees over-reads). */
static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    uint8_t *buf = malloc(n ? (size_t)n : 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Replays every file in $PS_SOURCE_DIR/tests/fuzz/<kind>/<harness>/; returns how many. */
static size_t replay_dir(const fz_harness *h, const char *kind)
{
    const char *src = getenv("PS_SOURCE_DIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/%s/%s", src, kind, h->name);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[sizeof dir + 260];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        size_t len = 0;
        uint8_t *buf = read_all(path, &len);
        fprintf(stderr, "replay %s/%s\n", h->name, e->d_name);
        assert_int_equal(h->fn(buf, len), 0);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

static void test_replay(void **state)
{
    const fz_harness *h = *state;
    if (!getenv("PS_SOURCE_DIR"))
        skip();
    size_t seeds = replay_dir(h, "corpus");
    replay_dir(h, "regressions");
    assert_true(seeds > 0); /* every harness has a seed corpus */
    /* the empty input and a lone byte are always valid calls */
    assert_int_equal(h->fn((const uint8_t *)"", 0), 0);
    assert_int_equal(h->fn((const uint8_t *)"\n", 1), 0);
}

#define FZ_TEST(i)                                                                                 \
    {                                                                                              \
        harnesses[i].name, test_replay, NULL, NULL, (void *)&harnesses[i]                          \
    }

int main(void)
{
    /* one test per harness, named after it */
    struct CMUnitTest t[] = {FZ_TEST(0),  FZ_TEST(1),  FZ_TEST(2), FZ_TEST(3), FZ_TEST(4),
                             FZ_TEST(5),  FZ_TEST(6),  FZ_TEST(7), FZ_TEST(8), FZ_TEST(9),
                             FZ_TEST(10), FZ_TEST(11), FZ_TEST(12)};
    _Static_assert(sizeof t / sizeof t[0] == sizeof harnesses / sizeof harnesses[0],
                   "one test per harness");
    return cmocka_run_group_tests_name("fuzz_regressions", t, NULL, NULL);
}
