/* paysync core: bounded PCRE2 regular expressions (see regex.h). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "util/regex.h"

#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ps_regex {
    pcre2_code *code;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    uint32_t groups;
    uint32_t nnames, name_size;
    PCRE2_SPTR name_table;
};

void ps_regex_free(ps_regex *re)
{
    if (!re)
        return;
    pcre2_match_data_free(re->md);
    pcre2_match_context_free(re->mctx);
    pcre2_code_free(re->code);
    free(re);
}

ps_status ps_regex_compile(const char *pattern, int case_insensitive, ps_regex **out, ps_error *err)
{
    *out = NULL;
    size_t plen = strlen(pattern);
    if (plen > PS_REGEX_MAX_PATTERN)
        return ps_error_setf(err, PS_ERR_CONFIG,
                             "the regular expression is %zu bytes long, the limit is %d", plen,
                             PS_REGEX_MAX_PATTERN);
    ps_regex *re = calloc(1, sizeof *re);
    if (!re)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    /* MATCH_INVALID_UTF: a cell with invalid UTF-8 is matched safely (never as a match
     * across the bad bytes) instead of being undefined behaviour. \C is refused: it could
     * split a character. */
    uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C;
    if (case_insensitive)
        opts |= PCRE2_CASELESS;
    int code = 0;
    PCRE2_SIZE off = 0;
    re->code = pcre2_compile((PCRE2_SPTR)pattern, plen, opts, &code, &off, NULL);
    if (!re->code) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(code, msg, sizeof msg) < 0)
            strcpy((char *)msg, "unknown error");
        ps_regex_free(re);
        return ps_error_setf(err, PS_ERR_CONFIG, "invalid regular expression at offset %zu: %s",
                             (size_t)off, (const char *)msg);
    }
    pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &re->groups);
    if (re->groups > PS_REGEX_MAX_GROUPS) {
        uint32_t g = re->groups;
        ps_regex_free(re);
        return ps_error_setf(err, PS_ERR_CONFIG,
                             "the regular expression has %u capture groups, the limit is %d", g,
                             PS_REGEX_MAX_GROUPS);
    }
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMECOUNT, &re->nnames);
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMEENTRYSIZE, &re->name_size);
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMETABLE, &re->name_table);
    re->md = pcre2_match_data_create_from_pattern(re->code, NULL);
    re->mctx = pcre2_match_context_create(NULL);
    if (!re->md || !re->mctx) {
        ps_regex_free(re);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    pcre2_set_match_limit(re->mctx, PS_REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(re->mctx, PS_REGEX_DEPTH_LIMIT);
    pcre2_set_heap_limit(re->mctx, PS_REGEX_HEAP_LIMIT_KIB);
    *out = re;
    return PS_OK;
}

uint32_t ps_regex_groups(const ps_regex *re)
{
    return re->groups;
}

size_t ps_regex_names(const ps_regex *re)
{
    return re->nnames;
}

const char *ps_regex_name_at(const ps_regex *re, size_t i, uint32_t *group)
{
    if (i >= re->nnames)
        return NULL;
    PCRE2_SPTR e = re->name_table + i * re->name_size;
    /* each entry: the group number in two bytes (big-endian), then the NUL-terminated name */
    if (group)
        *group = ((uint32_t)e[0] << 8) | e[1];
    return (const char *)(e + 2);
}

ps_regex_result ps_regex_match(ps_regex *re, const char *s, size_t len, size_t *span,
                               uint32_t nspan)
{
    int rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, 0, re->md, re->mctx);
    if (rc == PCRE2_ERROR_NOMATCH)
        return PS_REGEX_NOMATCH;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
        return PS_REGEX_LIMIT;
    if (rc < 0)
        return PS_REGEX_FAILED;
    if (span) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(re->md);
        uint32_t have = pcre2_get_ovector_count(re->md);
        for (uint32_t g = 0; g < nspan; g++) {
            if (g < have && (g < (uint32_t)rc || rc == 0) && ov[2 * g] != PCRE2_UNSET) {
                span[2 * g] = ov[2 * g];
                span[2 * g + 1] = ov[2 * g + 1];
            } else {
                span[2 * g] = span[2 * g + 1] = SIZE_MAX;
            }
        }
    }
    return PS_REGEX_MATCH;
}
