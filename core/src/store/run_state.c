/* paysync store: the run state file beside a store (run_state.h). */
#include "store/run_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "util/outfile.h"
#include "util/pathtext.h"
#include "util/proc.h"

#define STATE_SUFFIX ".state"
#define STATE_MAX_BYTES (1u << 20)

char *ps_run_state_path(const char *location)
{
    size_t n = strlen(location);
    char *p = malloc(n + sizeof STATE_SUFFIX);
    if (p) {
        memcpy(p, location, n);
        memcpy(p + n, STATE_SUFFIX, sizeof STATE_SUFFIX);
    }
    return p;
}

/* Loads the state file: a new empty document when absent; NULL (err set) when unreadable. */
static json_t *load(const char *path, ps_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return json_pack("{s:i, s:{}}", "version", 1, "datasets");
        ps_error_setf(err, PS_ERR_IO, "cannot read the run state file '%s': %s", PS_SHOWN(path),
                      strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > STATE_MAX_BYTES) {
        close(fd);
        ps_error_setf(err, PS_ERR_IO, "run state file '%s' is not a regular file under 1 MiB",
                      PS_SHOWN(path));
        return NULL;
    }
    json_error_t je;
    json_t *doc = json_loadfd(fd, 0, &je);
    close(fd);
    if (!json_is_object(doc) || !json_is_object(json_object_get(doc, "datasets"))) {
        json_decref(doc);
        ps_error_setf(err, PS_ERR_IO, "run state file '%s' is not a paysync state file%s%s",
                      PS_SHOWN(path), doc ? "" : ": ", doc ? "" : je.text);
        return NULL;
    }
    return doc;
}

ps_status ps_run_state_record(const char *location, const char *dataset, const ps_run_attempt *a,
                              ps_error *err)
{
    char *path = ps_run_state_path(location);
    char *dir = path ? strdup(path) : NULL;
    if (!path || !dir) {
        free(path);
        free(dir);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir ? 1 : 0] = '\0';
    /* Several runs (the daemon's, a manual one) may end at once: one writer at a time. */
    int lock = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lock >= 0)
        while (flock(lock, LOCK_EX) != 0 && errno == EINTR) {
        }
    ps_status st = PS_OK;
    ps_error lerr = {0};
    json_t *doc = load(path, &lerr);
    if (!doc) /* a damaged or unreadable state file is started afresh */
        doc = json_pack("{s:i, s:{}}", "version", 1, "datasets");
    json_t *e = doc ? json_pack("{s:s, s:I, s:I, s:I, s:I, s:s, s:s}", "run_id", a->run_id,
                                "started_ms", (json_int_t)a->started_ms, "finished_ms",
                                (json_int_t)a->finished_ms, "pid", (json_int_t)a->pid, "pid_start",
                                (json_int_t)a->pid_start, "outcome", a->outcome, "error", a->error)
                    : NULL;
    if (!e || json_object_set_new(json_object_get(doc, "datasets"), dataset, e) != 0)
        st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    if (st == PS_OK) {
        char *tmp = NULL;
        FILE *f = ps_outfile_fopen_temp(path, 0, &tmp, err);
        if (!f) {
            st = PS_ERR_SINK;
        } else if (json_dumpf(doc, f, JSON_INDENT(1) | JSON_SORT_KEYS) != 0 ||
                   fputc('\n', f) == EOF) {
            st = ps_error_setf(err, PS_ERR_SINK, "cannot write '%s': %s", PS_SHOWN(path),
                               strerror(errno ? errno : EIO));
            fclose(f);
            unlink(tmp);
        } else {
            st = ps_outfile_publish_file(f, tmp, path, NULL, err);
        }
        free(tmp);
    }
    json_decref(doc);
    if (lock >= 0)
        close(lock);
    free(path);
    free(dir);
    return st;
}

static void copy_text(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

ps_status ps_run_state_read(const char *location, const char *dataset, ps_run_attempt *out,
                            ps_error *err)
{
    memset(out, 0, sizeof *out);
    char *path = ps_run_state_path(location);
    if (!path)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    struct stat sb;
    if (lstat(path, &sb) != 0 && errno == ENOENT) {
        free(path);
        return PS_END;
    }
    json_t *doc = load(path, err);
    free(path);
    if (!doc)
        return PS_ERR_IO;
    json_t *e = json_object_get(json_object_get(doc, "datasets"), dataset);
    ps_status st = PS_END;
    if (json_is_object(e)) {
        copy_text(out->run_id, sizeof out->run_id, json_string_value(json_object_get(e, "run_id")));
        out->started_ms = json_integer_value(json_object_get(e, "started_ms"));
        out->finished_ms = json_integer_value(json_object_get(e, "finished_ms"));
        out->pid = (long)json_integer_value(json_object_get(e, "pid"));
        out->pid_start = (unsigned long long)json_integer_value(json_object_get(e, "pid_start"));
        copy_text(out->outcome, sizeof out->outcome,
                  json_string_value(json_object_get(e, "outcome")));
        copy_text(out->error, sizeof out->error, json_string_value(json_object_get(e, "error")));
        st = PS_OK;
    }
    json_decref(doc);
    return st;
}

ps_attempt_verdict ps_run_state_verdict(const ps_run_attempt *a, int store_has_run,
                                        int64_t store_started_ms)
{
    if (store_has_run && store_started_ms >= a->started_ms)
        return PS_ATTEMPT_KNOWN; /* recorded (same start), or a newer run is */
    if (strcmp(a->outcome, "failed") == 0)
        return PS_ATTEMPT_FAILED;
    if (strcmp(a->outcome, "running") == 0 && !ps_proc_alive(a->pid, a->pid_start))
        return PS_ATTEMPT_INTERRUPTED;
    return PS_ATTEMPT_KNOWN;
}

void ps_run_state_apply(const char *location, ps_store_stats **stats, size_t *n)
{
    if (!location)
        return; /* a store without a state file (ps_store_state_location) */
    char *path = ps_run_state_path(location);
    ps_error err = {0};
    json_t *doc = NULL;
    struct stat sb;
    if (path && lstat(path, &sb) == 0)
        doc = load(path, &err);
    free(path);
    json_t *ds = json_object_get(doc, "datasets");
    const char *name;
    json_t *e;
    json_object_foreach(ds, name, e)
    {
        ps_run_attempt a;
        if (ps_run_state_read(location, name, &a, &err) != PS_OK)
            continue;
        ps_store_stats *st = NULL;
        for (size_t i = 0; i < *n && !st; i++)
            if (strcmp((*stats)[i].dataset, name) == 0)
                st = &(*stats)[i];
        if (ps_run_state_verdict(&a, st && st->has_run, st ? st->last_run_ms : 0) ==
            PS_ATTEMPT_KNOWN)
            continue;
        if (!st) {
            ps_store_stats *grown = realloc(*stats, (*n + 1) * sizeof **stats);
            char *copy = strdup(name);
            if (!grown || !copy) {
                if (grown)
                    *stats = grown;
                free(copy);
                continue;
            }
            *stats = grown;
            st = &grown[(*n)++];
            memset(st, 0, sizeof *st);
            st->dataset = copy;
            st->last_success_duration_ms = -1;
        }
        st->runs_failed++;
        st->has_run = 1;
        st->last_run_ok = 0;
        st->last_run_ms = a.started_ms;
    }
    json_decref(doc);
}
