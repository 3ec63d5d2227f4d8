/* paysync CLI: the `paysync new-plugin` templates (cli/templates/KIND/FILE, where KIND is
 * provider, provider_record or sink, and common/ holds files every kind gets unless it has
 * its own), embedded at
 * build time by cli/CMakeLists.txt. */
#ifndef PS_CLI_TEMPLATES_H
#define PS_CLI_TEMPLATES_H

#include <stddef.h>

typedef struct ps_template {
    const char *path; /* "provider/@NAME@.c": kind folder, then the file name */
    const unsigned char *data;
    size_t len;
} ps_template;

/* Terminated by an entry with path NULL. */
extern const ps_template ps_templates[];

#endif
