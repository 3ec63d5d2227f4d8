/* paysync CLI: problems by column and the first rejected rows from a rejects file. */
#include "report_rejects.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long rr_column_index(const char *letters)
{
    long v = 0;
    if (!letters || !letters[0] || strlen(letters) > 4)
        return -1;
    for (const char *p = letters; *p; p++) {
        if (*p < 'A' || *p > 'Z')
            return -1;
        v = v * 26 + (*p - 'A' + 1);
    }
    return v - 1;
}

json_t *rr_cell_at(json_t *cells, long index, const char **key)
{
    long i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(cells, k, v)
    {
        if (i++ == index) {
            if (key)
                *key = k;
            return v;
        }
    }
    return NULL;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Counts one problem under its column. Returns 0 or -1 (out of memory). */
static int count_problem(rr_summary *s, json_t *cells, json_t *problem)
{
    const char *letters = json_string_value(json_object_get(problem, "column"));
    const char *field = json_string_value(json_object_get(problem, "field"));
    const char *header = NULL;
    if (letters)
        rr_cell_at(cells, rr_column_index(letters), &header);
    if (!letters)
        letters = "";
    for (size_t i = 0; i < s->ncols; i++) {
        rr_column *c = &s->cols[i];
        if (strcmp(c->letters, letters) == 0 && same(c->header, header) && same(c->field, field)) {
            c->problems++;
            return 0;
        }
    }
    rr_column *nc = realloc(s->cols, (s->ncols + 1) * sizeof *nc);
    if (!nc)
        return -1;
    s->cols = nc;
    rr_column *c = &nc[s->ncols];
    memset(c, 0, sizeof *c);
    c->letters = strdup(letters);
    c->header = dup_or_null(header);
    c->field = dup_or_null(field);
    c->problems = 1;
    s->ncols++;
    if (!c->letters || (header && !c->header) || (field && !c->field))
        return -1;
    return 0;
}

static int by_problems(const void *a, const void *b)
{
    const rr_column *x = a, *y = b;
    if (x->problems != y->problems)
        return x->problems > y->problems ? -1 : 1;
    return strcmp(x->letters, y->letters);
}

int rr_read(const char *path, const char *dataset, rr_summary *out, char *msg, size_t cap)
{
    memset(out, 0, sizeof *out);
    if (!path || strcmp(path, "-") == 0)
        return 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(msg, cap, "cannot open the rejects file %s: %s", path, strerror(errno));
        return -1;
    }
    out->present = 1;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &lcap, f)) >= 0) {
        if (n == 0 || line[0] == '\n')
            continue;
        json_t *o = json_loadb(line, (size_t)n, 0, NULL);
        json_t *cells = json_object_get(o, "cells"), *problems = json_object_get(o, "problems");
        const char *ds = json_string_value(json_object_get(o, "dataset"));
        if (!json_is_object(cells) || !json_is_array(problems) || !ds ||
            !json_is_integer(json_object_get(o, "row"))) {
            out->bad++;
            json_decref(o);
            continue;
        }
        if (strcmp(ds, dataset) != 0) {
            json_decref(o);
            continue;
        }
        out->rows++;
        size_t i;
        json_t *p;
        json_array_foreach(problems, i, p)
        {
            if (rc == 0 && count_problem(out, cells, p) != 0) {
                snprintf(msg, cap, "out of memory");
                rc = -1;
            }
        }
        if (out->ntop < RR_TOP_ROWS)
            out->top[out->ntop++] = o;
        else
            json_decref(o);
    }
    if (rc == 0 && ferror(f)) {
        snprintf(msg, cap, "cannot read the rejects file %s: %s", path, strerror(errno));
        rc = -1;
    }
    free(line);
    fclose(f);
    if (rc == 0 && out->ncols > 1)
        qsort(out->cols, out->ncols, sizeof *out->cols, by_problems);
    if (rc != 0)
        rr_free(out);
    return rc;
}

void rr_free(rr_summary *s)
{
    for (size_t i = 0; i < s->ncols; i++) {
        free(s->cols[i].letters);
        free(s->cols[i].header);
        free(s->cols[i].field);
    }
    free(s->cols);
    for (size_t i = 0; i < s->ntop; i++)
        json_decref(s->top[i]);
    memset(s, 0, sizeof *s);
}
