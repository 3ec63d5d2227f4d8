/* paysync core: rejects/warnings JSONL writer. */
#include "engine/rowlog.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/mapping.h"
#include "model/model_fields.h"
#include "util/crashpoint.h"
#include "util/mkdirs.h"
#include "util/outfile.h"

struct ps_rowlog {
    FILE *f;
    char *path;
    char *tmp;
    int is_stderr;
    char *buf;
};

/* This module's errors are PS_ERR_IO (the writer's PS_ERR_SINK message kept). */
static ps_status as_io(ps_error *err)
{
    if (err && err->code == PS_ERR_SINK)
        err->code = PS_ERR_IO;
    return err ? err->code : PS_ERR_IO;
}

ps_status ps_rowlog_open(const char *path, ps_rowlog **out, ps_error *err)
{
    ps_rowlog *l = calloc(1, sizeof *l);
    if (!l)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    if (strcmp(path, "-") == 0) {
        l->f = stderr;
        l->is_stderr = 1;
        *out = l;
        return PS_OK;
    }
    l->path = strdup(path);
    if (!l->path) {
        ps_rowlog_abort(l);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    /* The one way paysync writes a file: exclusive temp file beside path, then rename. */
    l->f = ps_outfile_fopen_temp(path, 1, &l->tmp, err);
    if (!l->f) {
        ps_status st = as_io(err);
        ps_rowlog_abort(l);
        return st;
    }
    l->buf = malloc(1 << 16);
    if (l->buf)
        setvbuf(l->f, l->buf, _IOFBF, 1 << 16);
    *out = l;
    return PS_OK;
}

/* Length of a valid UTF-8 sequence at s (n bytes left), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
        len = 2;
        cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

char *ps_utf8_repair(const char *s, size_t len)
{
    char *out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (i < len) {
        size_t k = p[i] ? utf8_seq(p + i, len - i) : 0;
        if (k == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, p + i, k);
            o += k;
            i += k;
        }
    }
    out[o] = '\0';
    return out;
}

void ps_json_write_string(FILE *f, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c >= 0x80) {
            size_t k = utf8_seq(p + i, len - i);
            if (k == 0) {
                fputs("\xEF\xBF\xBD", f);
                i++;
            } else {
                fwrite(p + i, 1, k, f);
                i += k;
            }
            continue;
        }
        switch (c) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (c < 0x20)
                fprintf(f, "\\u%04x", c);
            else
                fputc(c, f);
        }
        i++;
    }
    fputc('"', f);
}

static void write_cstr(FILE *f, const char *s)
{
    ps_json_write_string(f, s, strlen(s));
}

static void write_field_name(FILE *f, int field)
{
    if (field >= 0 && ps_field_name(field))
        write_cstr(f, ps_field_name(field));
    else
        fputs("null", f);
}

ps_status ps_rowlog_reject(ps_rowlog *l, const char *dataset, uint64_t row,
                           const ps_problem *problems, int nproblems, const ps_cell *header,
                           size_t nheader, const ps_row *raw, const int *field_col, ps_error *err)
{
    FILE *f = l->f;
    fputs("{\"dataset\":", f);
    write_cstr(f, dataset);
    fprintf(f, ",\"row\":%llu,\"problems\":[", (unsigned long long)row);
    for (int i = 0; i < nproblems; i++) {
        fputs(i ? ",{\"field\":" : "{\"field\":", f);
        write_field_name(f, problems[i].field);
        fputs(",\"code\":", f);
        write_cstr(f, problems[i].code ? problems[i].code : "invalid");
        fputs(",\"message\":", f);
        write_cstr(f, problems[i].message);
        int fld = problems[i].field;
        if (field_col && fld >= 0 && fld < PS_FIELD_COUNT && field_col[fld] >= 0) {
            char letters[8];
            ps_column_letters((size_t)field_col[fld], letters);
            fprintf(f, ",\"column\":\"%s\"", letters);
        }
        fputc('}', f);
    }
    fputs("],\"cells\":{", f);
    size_t n = raw->ncells > nheader ? raw->ncells : nheader;
    int first = 1;
    for (size_t c = 0; c < n; c++) {
        const char *v = c < raw->ncells ? raw->cells[c].text : "";
        size_t vlen = c < raw->ncells ? raw->cells[c].len : 0;
        char key[300];
        char letters[8];
        ps_column_letters(c, letters);
        if (c < nheader && header[c].len > 0) {
            /* A repeated header name is made unique with its column letter. */
            int repeated = 0;
            for (size_t k = 0; k < c && !repeated; k++)
                repeated = header[k].len == header[c].len &&
                           memcmp(header[k].text, header[c].text, header[c].len) == 0;
            if (repeated)
                snprintf(key, sizeof key, "%.*s (column %s)",
                         (int)(header[c].len > 250 ? 250 : header[c].len), header[c].text, letters);
            else
                snprintf(key, sizeof key, "%.*s", (int)(header[c].len > 290 ? 290 : header[c].len),
                         header[c].text);
        } else {
            snprintf(key, sizeof key, "column %s", letters);
        }
        if (!first)
            fputc(',', f);
        first = 0;
        write_cstr(f, key);
        fputc(':', f);
        ps_json_write_string(f, v, vlen);
    }
    fputs("}}\n", f);
    if (ferror(f))
        return ps_error_setf(err, PS_ERR_IO, "cannot write rejects to %s: %s",
                             l->tmp ? l->tmp : "stderr", strerror(errno));
    return PS_OK;
}

ps_status ps_rowlog_warnings(ps_rowlog *l, const char *dataset, uint64_t row, const char *id,
                             const ps_problem *warnings, int nwarnings, ps_error *err)
{
    FILE *f = l->f;
    fputs("{\"dataset\":", f);
    write_cstr(f, dataset);
    fprintf(f, ",\"row\":%llu,\"id\":", (unsigned long long)row);
    write_cstr(f, id ? id : "");
    fputs(",\"warnings\":[", f);
    for (int i = 0; i < nwarnings; i++) {
        fputs(i ? ",{\"field\":" : "{\"field\":", f);
        write_field_name(f, warnings[i].field);
        fputs(",\"code\":", f);
        write_cstr(f, warnings[i].code ? warnings[i].code : "invalid");
        fputs(",\"message\":", f);
        write_cstr(f, warnings[i].message);
        if (warnings[i].raw) {
            fputs(",\"raw\":", f);
            write_cstr(f, warnings[i].raw);
        }
        fputc('}', f);
    }
    fputs("]}\n", f);
    if (ferror(f))
        return ps_error_setf(err, PS_ERR_IO, "cannot write warnings to %s: %s",
                             l->tmp ? l->tmp : "stderr", strerror(errno));
    return PS_OK;
}

ps_status ps_rowlog_commit(ps_rowlog *l, ps_error *err)
{
    ps_status st = PS_OK;
    if (l->is_stderr) {
        fflush(stderr);
        free(l);
        return PS_OK;
    }
    st = ps_outfile_publish_file(l->f, l->tmp, l->path, "rowlog-before-rename", err);
    l->f = NULL;
    if (st != PS_OK)
        st = as_io(err);
    free(l->buf);
    free(l->tmp);
    free(l->path);
    free(l);
    return st;
}

void ps_rowlog_abort(ps_rowlog *l)
{
    if (!l)
        return;
    if (l->f && !l->is_stderr)
        fclose(l->f);
    if (l->tmp)
        unlink(l->tmp);
    free(l->buf);
    free(l->tmp);
    free(l->path);
    free(l);
}
