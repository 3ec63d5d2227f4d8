/* Unit tests: the plugin folder found next to the executable (ps_plugin_dir_near): installed
 * layout (EXEDIR/PS_PLUGIN_REL_DIR) first, then the build tree's EXEDIR/plugins. */
#include <limits.h>
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

#ifndef PS_PLUGIN_REL_DIR
#error "PS_PLUGIN_REL_DIR must be defined as for the core (tests/CMakeLists.txt)"
#endif

static char root[] = "/tmp/ps_plugin_dir_XXXXXX";

/* mkdir -p root/rel (rel may contain ".."). */
static void mkdirs(const char *rel)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    for (char *s = p + strlen(root) + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
    mkdir(p, 0755);
}

static char *path_of(const char *rel)
{
    static char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    return p;
}

static int setup(void **state)
{
    (void)state;
    strcpy(root, "/tmp/ps_plugin_dir_XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_nothing_near(void **state)
{
    (void)state;
    mkdirs("bin");
    assert_null(ps_plugin_dir_near(path_of("bin/paysync")));
    assert_null(ps_plugin_dir_near("paysync")); /* no folder part */
    assert_null(ps_plugin_dir_near(NULL));
}

static void test_build_tree(void **state)
{
    (void)state;
    mkdirs("build/plugins");
    char *d = ps_plugin_dir_near(path_of("build/paysync"));
    assert_non_null(d);
    char want[PATH_MAX];
    assert_non_null(realpath(path_of("build/plugins"), want));
    assert_string_equal(d, want);
    free(d);
}

static void test_installed_tree_first(void **state)
{
    (void)state;
    mkdirs("bin/plugins"); /* a build-tree look-alike loses against the installed layout */
    char rel[PATH_MAX];
    snprintf(rel, sizeof rel, "bin/%s", PS_PLUGIN_REL_DIR);
    mkdirs(rel);
    char *d = ps_plugin_dir_near(path_of("bin/paysync"));
    assert_non_null(d);
    char want[PATH_MAX];
    assert_non_null(realpath(path_of(rel), want));
    assert_string_equal(d, want); /* canonical: no ".." left */
    assert_null(strstr(d, ".."));
    free(d);
}

static void test_file_is_not_a_folder(void **state)
{
    (void)state;
    mkdirs("b2");
    FILE *f = fopen(path_of("b2/plugins"), "w");
    assert_non_null(f);
    fclose(f);
    assert_null(ps_plugin_dir_near(path_of("b2/paysync")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nothing_near, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_installed_tree_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_is_not_a_folder, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
