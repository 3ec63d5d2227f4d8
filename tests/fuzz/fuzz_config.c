/* Fuzz target: the YAML configuration loader (core/src/config/config.c, yaml_tree.c). */
#include <string.h>

#include "config/config.h"
#include "fuzz.h"

int PS_FUZZ_ENTRY(const uint8_t *data, size_t size);
int PS_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    static int env_done;
    if (!env_done) { /* a few variables for ${VAR} substitution */
        setenv("PS_FUZZ_VAR", "value", 1);
        setenv("PS_FUZZ_EMPTY", "", 1);
        env_done = 1;
    }
    ps_config *c = NULL;
    ps_error err;
    ps_error_clear(&err);
    ps_status st =
        ps_config_load_string((const char *)data, size, "fuzz.yaml", "/nonexistent", &c, &err);
    if (st == PS_OK) {
        PS_FUZZ_CHECK(c != NULL);
        for (size_t i = 0; i < c->ndatasets; i++) {
            PS_FUZZ_CHECK(c->datasets[i].name);
            PS_FUZZ_CHECK(ps_config_dataset(c, c->datasets[i].name) != NULL);
        }
        for (size_t i = 0; i < c->nsinks; i++)
            PS_FUZZ_CHECK(ps_config_sink(c, c->sinks[i].name) != NULL);
        ps_config_free(c);
    } else {
        PS_FUZZ_CHECK(err.message[0] != '\0');
        PS_FUZZ_CHECK(memchr(err.message, '\0', sizeof err.message) != NULL);
        ps_config_free(c); /* NULL or a partial config: either must be safe */
    }
    return 0;
}
