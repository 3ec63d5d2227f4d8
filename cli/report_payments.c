/* paysync CLI: the payments part of the HTML report, from the store's totals per day,
 * currency and transaction type (ps_store_totals: counted and summed by the store). */
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "report_parts.h"

#define DAY_MS 86400000LL

/* One group of the totals, copied (the iterator's strings live until its next row). */
typedef struct group {
    int64_t day;
    char *currency, *type;
    uint64_t count;
    ps_decimal amount;
} group;

typedef struct groups {
    group *v;
    size_t n, cap;
} groups;

static void groups_free(groups *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->v[i].currency);
        free(g->v[i].type);
    }
    free(g->v);
}

static int load_groups(ps_store *s, const ps_store_query *q, groups *g, char *msg, size_t cap)
{
    ps_store_iter *it = NULL;
    ps_error err = {0};
    ps_status st = ps_store_totals(s, q, &it, &err);
    ps_store_total t;
    while (st == PS_OK && (st = ps_store_next_total(it, &t, &err)) == PS_OK) {
        if (g->n == g->cap) {
            size_t nc = g->cap ? g->cap * 2 : 256;
            group *nv = realloc(g->v, nc * sizeof *nv);
            if (!nv) {
                st = ps_error_setf(&err, PS_ERR_NOMEM, "out of memory");
                break;
            }
            g->v = nv;
            g->cap = nc;
        }
        group *e = &g->v[g->n++];
        e->day = t.day;
        e->count = t.count;
        e->amount = t.amount;
        e->currency = strdup(t.currency ? t.currency : "");
        e->type = strdup(t.transaction_type ? t.transaction_type : "");
        if (!e->currency || !e->type)
            st = ps_error_setf(&err, PS_ERR_NOMEM, "out of memory");
    }
    ps_store_iter_free(it);
    if (st != PS_END) {
        snprintf(msg, cap, "%s", err.message);
        return -1;
    }
    return 0;
}

/* Distinct names (currencies or types) of the groups in the window, sorted, with the largest
 * amount scale of each. */
typedef struct names {
    const char *name[64 + 1];
    int scale[64 + 1];
    size_t n;
    int more; /* more distinct names than kept: the rest are summed under "other" */
} names;

static size_t name_index(names *ns, const char *name, int scale)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->name[i], name) == 0) {
            if (scale > ns->scale[i])
                ns->scale[i] = scale;
            return i;
        }
    if (ns->n == 64) {
        ns->more = 1;
        ns->name[64] = "other";
        if (scale > ns->scale[64])
            ns->scale[64] = scale;
        return 64;
    }
    ns->name[ns->n] = name;
    ns->scale[ns->n] = scale;
    return ns->n++;
}

/* Sorts the kept names by byte order, each with its scale ("other" stays last). */
static void names_sort(names *ns)
{
    for (size_t i = 1; i < ns->n; i++)
        for (size_t j = i; j > 0 && strcmp(ns->name[j - 1], ns->name[j]) > 0; j--) {
            const char *t = ns->name[j];
            int sc = ns->scale[j];
            ns->name[j] = ns->name[j - 1];
            ns->scale[j] = ns->scale[j - 1];
            ns->name[j - 1] = t;
            ns->scale[j - 1] = sc;
        }
}

/* a += b, exactly, at a's scale (>= b's). 0, or -1 when the sum leaves 64 bits. */
static int add_at(int64_t *a, int scale, ps_decimal b)
{
    int64_t v = b.units;
    for (int k = b.scale; k < scale; k++)
        if (__builtin_mul_overflow(v, 10, &v))
            return -1;
    return __builtin_add_overflow(*a, v, a) ? -1 : 0;
}

static int64_t floor_day(int64_t ms)
{
    return ms / DAY_MS - (ms % DAY_MS < 0 ? 1 : 0);
}

/* Consecutive gap days as ranges: "2024-01-05, 2024-01-07 to 2024-01-09". */
static void gap_list(FILE *f, int64_t first, size_t ndays, const unsigned char *gap)
{
    size_t shown = 0;
    for (size_t i = 0; i < ndays; i++) {
        if (!gap[i] || (i > 0 && gap[i - 1]))
            continue;
        size_t j = i;
        while (j + 1 < ndays && gap[j + 1])
            j++;
        if (shown++ == 40) {
            fputs(", ...", f);
            return;
        }
        char a[16], b[16];
        fprintf(f, "%s<span class=\"gapday\">%s", shown > 1 ? ", " : "",
                html_day_text(first + (int64_t)i, a));
        if (j > i)
            fprintf(f, " to %s", html_day_text(first + (int64_t)j, b));
        fputs("</span>", f);
    }
}

/* The daily figures as a table (folded): day, payments, amount per currency. */
static void day_table(FILE *f, int64_t first, size_t ndays, const int64_t *count,
                      int64_t *const *amount, const names *cur)
{
    fputs("<details><summary>Daily figures</summary>\n<table class=\"days\">\n<thead><tr>"
          "<th>Day (UTC)</th><th>Payments</th>",
          f);
    for (size_t c = 0; c < cur->n + (size_t)cur->more; c++) {
        fputs("<th>Amount ", f);
        html_text(f, cur->name[c == cur->n ? 64 : c]);
        fputs("</th>", f);
    }
    fputs("</tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; i < ndays; i++) {
        char d[16];
        fprintf(f, "<tr%s data-day=\"%s\"><td>%s</td><td class=\"n\">",
                count[i] ? "" : " class=\"gap\"", html_day_text(first + (int64_t)i, d), d);
        html_count(f, (uint64_t)count[i]);
        fputs("</td>", f);
        for (size_t c = 0; c < cur->n + (size_t)cur->more; c++) {
            size_t k = c == cur->n ? 64 : c;
            fputs("<td class=\"n\">", f);
            html_decimal(f, (ps_decimal){.units = amount[k][i], .scale = (uint8_t)cur->scale[k]});
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table></details>\n", f);
}

/* Counts and amounts by transaction type over the window. */
static int type_table(FILE *f, const groups *g, int64_t first, int64_t last, const names *cur,
                      char *msg, size_t cap)
{
    names types = {0};
    for (size_t i = 0; i < g->n; i++)
        if (g->v[i].day >= first && g->v[i].day <= last)
            name_index(&types, g->v[i].type, 0);
    names_sort(&types);
    size_t nt = types.n + (size_t)types.more, nc = cur->n + (size_t)cur->more;
    uint64_t *cnt = calloc(65, sizeof *cnt);
    int64_t *amt = calloc(65 * 65, sizeof *amt);
    if (!cnt || !amt) {
        free(cnt);
        free(amt);
        snprintf(msg, cap, "out of memory");
        return -1;
    }
    names curs = *cur;
    for (size_t i = 0; i < g->n; i++) {
        const group *e = &g->v[i];
        if (e->day < first || e->day > last)
            continue;
        size_t t = name_index(&types, e->type, 0), c = name_index(&curs, e->currency, 0);
        cnt[t] += e->count;
        if (add_at(&amt[t * 65 + c], curs.scale[c], e->amount) != 0) {
            free(cnt);
            free(amt);
            snprintf(msg, cap, "the amounts of transaction type '%s' in %s add up past 64 bits",
                     e->type, e->currency);
            return -1;
        }
    }
    fputs("<h3>By transaction type</h3>\n<table class=\"types\">\n<thead><tr>"
          "<th>TRANSACTION_TYPE</th><th>Payments</th>",
          f);
    for (size_t c = 0; c < nc; c++) {
        fputs("<th>Amount ", f);
        html_text(f, curs.name[c == cur->n ? 64 : c]);
        fputs("</th>", f);
    }
    fputs("</tr></thead>\n<tbody>\n", f);
    for (size_t t = 0; t < nt; t++) {
        size_t k = t == types.n ? 64 : t;
        fputs("<tr><td>", f);
        html_text(f, types.name[k]);
        fprintf(f, "</td><td class=\"n\" data-count=\"%llu\">", (unsigned long long)cnt[k]);
        html_count(f, cnt[k]);
        fputs("</td>", f);
        for (size_t c = 0; c < nc; c++) {
            size_t j = c == cur->n ? 64 : c;
            fputs("<td class=\"n\">", f);
            html_decimal(f,
                         (ps_decimal){.units = amt[k * 65 + j], .scale = (uint8_t)curs.scale[j]});
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
    free(cnt);
    free(amt);
    return 0;
}

/* The window's days: [*first, *last]; 0, 1 with nothing to show, -1 when too long. */
static int window_days(const ps_store_query *q, const groups *g, int explicit_from, int64_t *first,
                       int64_t *last, int *trimmed, char *msg, size_t cap)
{
    *trimmed = 0;
    if (g->n == 0 && (q->unbounded || q->from_ms == INT64_MIN || q->to_ms == INT64_MAX))
        return 1; /* no payment, and an open window: no days to show */
    *first = q->unbounded || q->from_ms == INT64_MIN ? g->v[0].day : floor_day(q->from_ms);
    *last = q->unbounded || q->to_ms == INT64_MAX ? g->v[g->n - 1].day : floor_day(q->to_ms);
    if (*last < *first)
        return 1;
    if (*last - *first + 1 > REPORT_MAX_DAYS && explicit_from) {
        snprintf(msg, cap,
                 "the window has %lld days; the report shows at most %d (choose a later --from "
                 "or an earlier --to)",
                 (long long)(*last - *first + 1), REPORT_MAX_DAYS);
        return -1;
    }
    if (!explicit_from && *last - *first + 1 > REPORT_DEFAULT_DAYS) {
        *first = *last - REPORT_DEFAULT_DAYS + 1;
        *trimmed = 1;
    }
    return 0;
}

int report_payments(FILE *f, ps_store *s, const char *location, const ps_store_query *q,
                    int explicit_from, size_t index, char *msg, size_t cap)
{
    groups g = {0};
    if (load_groups(s, q, &g, msg, cap) != 0) {
        groups_free(&g);
        return -1;
    }
    if (q->unbounded) {
        /* every present payment of the dataset: what status counts */
        uint64_t present = 0;
        for (size_t i = 0; i < g.n; i++)
            present += g.v[i].count;
        fprintf(f, "<p class=\"store\" data-payments=\"%llu\">Store ", (unsigned long long)present);
        html_text(f, location);
        fputs(": ", f);
        html_count(f, present);
        fputs(" payments (vanished ones left out).</p>\n", f);
    } else {
        fputs("<p class=\"store\">Store ", f);
        html_text(f, location);
        fputs(".</p>\n", f);
    }
    int64_t first = 0, last = -1;
    int trimmed;
    int w = window_days(q, &g, explicit_from, &first, &last, &trimmed, msg, cap);
    fputs("<h3>Payments per day</h3>\n", f);
    if (w != 0) {
        groups_free(&g);
        if (w < 0)
            return -2;
        fputs("<p class=\"none\">No payments in the window.</p>\n", f);
        return 0;
    }
    size_t ndays = (size_t)(last - first + 1);
    names cur = {0};
    for (size_t i = 0; i < g.n; i++)
        if (g.v[i].day >= first && g.v[i].day <= last)
            name_index(&cur, g.v[i].currency, g.v[i].amount.scale);
    names_sort(&cur);
    int64_t *count = calloc(ndays, sizeof *count);
    unsigned char *gap = calloc(ndays, 1);
    int64_t *amount[65] = {0};
    int rc = count && gap ? 0 : -1;
    for (size_t c = 0; rc == 0 && c < 65; c++)
        if ((c < cur.n || (c == 64 && cur.more)) && !(amount[c] = calloc(ndays, sizeof **amount)))
            rc = -1;
    if (rc != 0)
        snprintf(msg, cap, "out of memory");
    uint64_t total = 0;
    for (size_t i = 0; rc == 0 && i < g.n; i++) {
        const group *e = &g.v[i];
        if (e->day < first || e->day > last)
            continue;
        size_t d = (size_t)(e->day - first), c = name_index(&cur, e->currency, 0);
        count[d] += (int64_t)e->count;
        total += e->count;
        if (add_at(&amount[c][d], cur.scale[c], e->amount) != 0) {
            snprintf(msg, cap, "the %s amounts of one day add up past 64 bits", e->currency);
            rc = -1;
        }
    }
    if (rc == 0) {
        size_t ngaps = 0;
        for (size_t i = 0; i < ndays; i++)
            ngaps += (gap[i] = count[i] == 0);
        char a[16], b[16], id[48];
        fprintf(f,
                "<p class=\"window\" data-first-day=\"%s\" data-last-day=\"%s\" data-days=\"%zu\" "
                "data-payments=\"%llu\">",
                html_day_text(first, a), html_day_text(last, b), ndays, (unsigned long long)total);
        html_count(f, total);
        fprintf(f, " payments on %zu days, %s to %s (UTC days)", ndays, a, b);
        if (trimmed)
            fprintf(f, ", the last %d days with payments (--from and --to show others)",
                    REPORT_DEFAULT_DAYS);
        fputc('.', f);
        fprintf(f, " <span class=\"%s\">Days without payments: %zu</span>", ngaps ? "gapday" : "ok",
                ngaps);
        if (ngaps) {
            fputs(" (", f);
            gap_list(f, first, ndays, gap);
            fputc(')', f);
        }
        fputs("</p>\n", f);
        snprintf(id, sizeof id, "payments-%zu", index);
        html_bar_chart(f, &(html_chart){.id = id,
                                        .title = "Payments per day",
                                        .unit = "payments",
                                        .scale = -1,
                                        .first_day = first,
                                        .ndays = ndays,
                                        .value = count,
                                        .gap = gap});
        fputs("<h3>Amount per day by currency</h3>\n", f);
        for (size_t c = 0; c < cur.n + (size_t)cur.more; c++) {
            size_t k = c == cur.n ? 64 : c;
            int64_t sum = 0;
            for (size_t i = 0; i < ndays && rc == 0; i++)
                if (__builtin_add_overflow(sum, amount[k][i], &sum))
                    rc = -1;
            fputs("<h4>", f);
            html_text(f, cur.name[k]);
            fputs(": ", f);
            if (rc == 0)
                html_decimal(f, (ps_decimal){.units = sum, .scale = (uint8_t)cur.scale[k]});
            else
                fputs("more than 64 bits hold", f);
            rc = 0;
            fputs("</h4>\n", f);
            snprintf(id, sizeof id, "amount-%zu-%zu", index, c);
            html_bar_chart(f, &(html_chart){.id = id,
                                            .title = "Amount per day",
                                            .unit = cur.name[k],
                                            .scale = cur.scale[k],
                                            .first_day = first,
                                            .ndays = ndays,
                                            .value = amount[k],
                                            .gap = gap});
        }
        day_table(f, first, ndays, count, amount, &cur);
        rc = type_table(f, &g, first, last, &cur, msg, cap);
    }
    for (size_t c = 0; c < 65; c++)
        free(amount[c]);
    free(count);
    free(gap);
    groups_free(&g);
    return rc;
}
