/* rest: "{name}" templates (see rs_tmpl.h). */
#include "rs_tmpl.h"

#include <stdio.h>
#include <string.h>

#include "rs_json.h"

static int is_name(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Length of the "{name}" at t (t[0] == '{'), 0 when it is none. */
static size_t var_len(const char *t)
{
    size_t i = 1;
    while (is_name(t[i]))
        i++;
    return i > 1 && i <= 64 && t[i] == '}' ? i + 1 : 0;
}

int rs_tmpl_is_single(const char *t)
{
    return t && t[0] == '{' && var_len(t) == strlen(t);
}

int rs_url_encode(char **buf, size_t *len, size_t *cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            if (rs_buf_put(buf, len, cap, (const char *)&c, 1) != 0)
                return -1;
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            if (rs_buf_put(buf, len, cap, e, 3) != 0)
                return -1;
        }
    }
    return 0;
}

int rs_tmpl_expand(const char *t, rs_var_fn fn, void *ctx, int url_encode, char **buf, size_t *len,
                   size_t *cap, int *nempty, char *bad, size_t badcap)
{
    if (rs_buf_put(buf, len, cap, "", 0) != 0)
        return -2;
    while (*t) {
        size_t vl = *t == '{' ? var_len(t) : 0;
        if (!vl) {
            const char *lit = t + 1;
            while (*lit && *lit != '{')
                lit++;
            if (rs_buf_put(buf, len, cap, t, (size_t)(lit - t)) != 0)
                return -2;
            t = lit;
            continue;
        }
        char name[72];
        memcpy(name, t + 1, vl - 2);
        name[vl - 2] = '\0';
        const char *v = fn(ctx, name);
        if (!v) {
            snprintf(bad, badcap, "%s", name);
            return -1;
        }
        if (!*v && nempty)
            (*nempty)++;
        int rc =
            url_encode ? rs_url_encode(buf, len, cap, v) : rs_buf_put(buf, len, cap, v, strlen(v));
        if (rc != 0)
            return -2;
        t += vl;
    }
    return 0;
}
