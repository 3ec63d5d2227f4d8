/* paysync core: digit regular expressions as DFAs (see digitre.h). The pattern is parsed
 * into a tree, the tree into a Thompson NFA (counted repeats expanded into copies), the NFA
 * into a DFA over the ten digits by subset construction. DFA state 0 is the dead state (no
 * match possible any more). */
#include "model/digitre.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ALL_DIGITS 0x3ffu
#define MAX_NODES 1024
#define MAX_DEPTH 64
#define MAX_COUNT 64 /* largest n or m of {n,m} */

enum { N_SET, N_EMPTY, N_CAT, N_ALT, N_REP };

typedef struct node {
    int kind;
    unsigned set; /* N_SET: bit d for digit d */
    int a, b;     /* children (N_CAT, N_ALT; N_REP: a) */
    int min, max; /* N_REP: max -1 = no limit */
} node;

typedef struct parser {
    const char *p;
    node nodes[MAX_NODES];
    int n;
    int depth;
    int bad;
} parser;

struct ps_digitre {
    uint16_t (*next)[10];
    unsigned char *accept;
    uint16_t start;
    int n; /* DFA states */
    int prefix_free;
};

static int mk(parser *ps, int kind)
{
    if (ps->n >= MAX_NODES) {
        ps->bad = 1;
        return 0;
    }
    node *x = &ps->nodes[ps->n];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    return ps->n++;
}

static int parse_alt(parser *ps);

/* A decimal count of {n,m}; -1 when there is none or it is too large. */
static int count(parser *ps)
{
    int v = 0, any = 0;
    while (*ps->p >= '0' && *ps->p <= '9') {
        v = v * 10 + (*ps->p++ - '0');
        any = 1;
        if (v > MAX_COUNT)
            return -1;
    }
    return any ? v : -1;
}

/* A class after its '[': digits, ranges of digits and \d; anything else is refused. */
static int parse_class(parser *ps)
{
    unsigned set = 0;
    int x = mk(ps, N_SET);
    if (*ps->p == ']' || *ps->p == '^' || *ps->p == '-')
        ps->bad = 1;
    while (!ps->bad && *ps->p != ']') {
        char c = *ps->p;
        if (c == '\\' && ps->p[1] == 'd') {
            set |= ALL_DIGITS;
            ps->p += 2;
        } else if (c >= '0' && c <= '9') {
            int lo = c - '0', hi = lo;
            ps->p++;
            if (*ps->p == '-') {
                char h = ps->p[1];
                if (h < '0' || h > '9' || h - '0' < lo) {
                    ps->bad = 1;
                    break;
                }
                hi = h - '0';
                ps->p += 2;
            }
            for (int d = lo; d <= hi; d++)
                set |= 1u << d;
        } else {
            ps->bad = 1; /* another character, an escape, or the pattern's end */
        }
    }
    if (!ps->bad)
        ps->p++; /* ']' */
    ps->nodes[x].set = set;
    return x;
}

static int parse_atom(parser *ps)
{
    char c = *ps->p;
    if (c >= '0' && c <= '9') {
        int x = mk(ps, N_SET);
        ps->nodes[x].set = 1u << (c - '0');
        ps->p++;
        return x;
    }
    if (c == '\\' && ps->p[1] == 'd') {
        int x = mk(ps, N_SET);
        ps->nodes[x].set = ALL_DIGITS;
        ps->p += 2;
        return x;
    }
    if (c == '[') {
        ps->p++;
        return parse_class(ps);
    }
    if (c == '(') {
        int x;
        ps->p++;
        if (ps->p[0] == '?') {
            if (ps->p[1] != ':') {
                ps->bad = 1; /* look-around, named group, flags ... */
                return 0;
            }
            ps->p += 2;
        }
        if (++ps->depth > MAX_DEPTH) {
            ps->bad = 1;
            return 0;
        }
        x = parse_alt(ps);
        ps->depth--;
        if (*ps->p != ')')
            ps->bad = 1;
        else
            ps->p++;
        return x;
    }
    ps->bad = 1;
    return 0;
}

/* An atom and at most one quantifier (greedy: a lazy or possessive one is refused). */
static int parse_repeat(parser *ps)
{
    int a = parse_atom(ps), min, max;
    if (ps->bad)
        return 0;
    switch (*ps->p) {
    case '?':
        min = 0, max = 1;
        ps->p++;
        break;
    case '*':
        min = 0, max = -1;
        ps->p++;
        break;
    case '+':
        min = 1, max = -1;
        ps->p++;
        break;
    case '{':
        ps->p++;
        min = count(ps);
        max = min;
        if (min >= 0 && *ps->p == ',') {
            ps->p++;
            max = *ps->p == '}' ? -1 : count(ps);
            if (*ps->p != '}' && max == -1)
                min = -1;
            else if (max != -1 && max < min)
                min = -1;
        }
        if (min < 0 || *ps->p != '}') {
            ps->bad = 1;
            return 0;
        }
        ps->p++;
        break;
    default:
        return a;
    }
    if (*ps->p == '?' || *ps->p == '+' || *ps->p == '*' || *ps->p == '{') {
        ps->bad = 1;
        return 0;
    }
    int r = mk(ps, N_REP);
    ps->nodes[r].a = a;
    ps->nodes[r].min = min;
    ps->nodes[r].max = max;
    return r;
}

static int parse_cat(parser *ps)
{
    int x = -1;
    while (!ps->bad && *ps->p && *ps->p != '|' && *ps->p != ')') {
        int r = parse_repeat(ps);
        if (ps->bad)
            return 0;
        if (x < 0) {
            x = r;
        } else {
            int c = mk(ps, N_CAT);
            ps->nodes[c].a = x;
            ps->nodes[c].b = r;
            x = c;
        }
    }
    return x < 0 ? mk(ps, N_EMPTY) : x;
}

static int parse_alt(parser *ps)
{
    int x = parse_cat(ps);
    while (!ps->bad && *ps->p == '|') {
        ps->p++;
        int r = parse_cat(ps), a = mk(ps, N_ALT);
        ps->nodes[a].a = x;
        ps->nodes[a].b = r;
        x = a;
    }
    return x;
}

/* Thompson NFA: a state has a digit edge (mask, to) or up to two empty edges. */
typedef struct nstate {
    unsigned mask;
    int to;
    int eps[2];
} nstate;

typedef struct nfa {
    nstate *s;
    int n;
    int bad;
} nfa;

static int nnew(nfa *m)
{
    if (m->n >= PS_DIGITRE_MAX_NFA) {
        m->bad = 1;
        return 0;
    }
    nstate *x = &m->s[m->n];
    x->mask = 0;
    x->to = -1;
    x->eps[0] = x->eps[1] = -1;
    return m->n++;
}

static void eps(nfa *m, int from, int to)
{
    nstate *x = &m->s[from];
    if (x->eps[0] < 0)
        x->eps[0] = to;
    else
        x->eps[1] = to;
}

/* The fragment of tree node i: its start state into *st, its end state (no edges yet)
 * into *en. */
static void frag(nfa *m, const parser *ps, int i, int *st, int *en)
{
    const node *x = &ps->nodes[i];
    int s, e, s1, e1, s2, e2;
    *st = *en = 0;
    if (m->bad)
        return;
    switch (x->kind) {
    case N_SET:
        s = nnew(m);
        e = nnew(m);
        if (m->bad)
            return;
        m->s[s].mask = x->set;
        m->s[s].to = e;
        *st = s, *en = e;
        return;
    case N_EMPTY:
        s = nnew(m);
        *st = *en = s;
        return;
    case N_CAT:
        frag(m, ps, x->a, &s1, &e1);
        frag(m, ps, x->b, &s2, &e2);
        if (m->bad)
            return;
        eps(m, e1, s2);
        *st = s1, *en = e2;
        return;
    case N_ALT:
        s = nnew(m);
        e = nnew(m);
        frag(m, ps, x->a, &s1, &e1);
        frag(m, ps, x->b, &s2, &e2);
        if (m->bad)
            return;
        eps(m, s, s1);
        eps(m, s, s2);
        eps(m, e1, e);
        eps(m, e2, e);
        *st = s, *en = e;
        return;
    default: /* N_REP: min copies, then a loop or max - min optional copies */
        s = e = nnew(m);
        for (int k = 0; k < x->min && !m->bad; k++) {
            frag(m, ps, x->a, &s1, &e1);
            if (m->bad)
                return;
            eps(m, e, s1);
            e = e1;
        }
        if (x->max < 0) {
            int l = nnew(m), out = nnew(m);
            frag(m, ps, x->a, &s1, &e1);
            if (m->bad)
                return;
            eps(m, e, l);
            eps(m, l, s1);
            eps(m, l, out);
            eps(m, e1, l);
            e = out;
        } else {
            for (int k = x->min; k < x->max && !m->bad; k++) {
                int out = nnew(m);
                frag(m, ps, x->a, &s1, &e1);
                if (m->bad)
                    return;
                eps(m, e, s1);
                eps(m, e, out);
                eps(m, e1, out);
                e = out;
            }
        }
        *st = s, *en = e;
        return;
    }
}

/* Subset construction. The tables grow by doubling (a plan's pattern makes about 15
 * states; the limit is PS_DIGITRE_MAX_DFA), so compiling touches little memory. */
typedef struct builder {
    const nfa *m;
    int words;      /* 64-bit words of a state set */
    uint64_t *sets; /* DFA state k's NFA set at sets + k * words */
    int n, cap;     /* DFA states so far, room in sets, next and accept */
    uint16_t (*next)[10];
    unsigned char *accept;
    int32_t *hash; /* DFA state + 1, 0 = empty slot */
    unsigned hmask;
    int *stack;
} builder;

static void closure(builder *b, uint64_t *set, int from)
{
    int top = 0;
    if (set[from / 64] >> (from % 64) & 1)
        return;
    set[from / 64] |= 1ull << (from % 64);
    b->stack[top++] = from;
    while (top > 0) {
        const nstate *x = &b->m->s[b->stack[--top]];
        for (int k = 0; k < 2; k++) {
            int t = x->eps[k];
            if (t >= 0 && !(set[t / 64] >> (t % 64) & 1)) {
                set[t / 64] |= 1ull << (t % 64);
                b->stack[top++] = t;
            }
        }
    }
}

static uint64_t set_hash(const uint64_t *set, int words)
{
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < words; i++) {
        h ^= set[i];
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 29;
    }
    return h;
}

/* Room for one more state; -1 at the limit or out of memory. */
static int grow(builder *b)
{
    if (b->n < b->cap)
        return 0;
    if (b->cap >= PS_DIGITRE_MAX_DFA)
        return -1;
    int cap = b->cap ? 2 * b->cap : 32;
    uint64_t *sets = realloc(b->sets, (size_t)cap * (size_t)b->words * sizeof *sets);
    if (sets)
        b->sets = sets;
    uint16_t(*next)[10] = realloc(b->next, (size_t)cap * sizeof *next);
    if (next)
        b->next = next;
    unsigned char *accept = realloc(b->accept, (size_t)cap);
    if (accept)
        b->accept = accept;
    if (!sets || !next || !accept)
        return -1;
    b->cap = cap;
    return 0;
}

/* The DFA state of set (added when new); -1 when the limit is reached. */
static int intern(builder *b, const uint64_t *set)
{
    size_t bytes = (size_t)b->words * sizeof *set;
    unsigned slot = (unsigned)set_hash(set, b->words) & b->hmask;
    for (;; slot = (slot + 1) & b->hmask) {
        int v = b->hash[slot];
        if (v == 0)
            break;
        if (memcmp(b->sets + (size_t)(v - 1) * (size_t)b->words, set, bytes) == 0)
            return v - 1;
    }
    if (grow(b) != 0)
        return -1;
    memcpy(b->sets + (size_t)b->n * (size_t)b->words, set, bytes);
    b->hash[slot] = b->n + 1;
    return b->n++;
}

static int build_dfa(ps_digitre *re, const nfa *m, int start, int final)
{
    builder b = {0};
    uint64_t *cur = NULL, *from = NULL;
    int ok = 0, s0;
    b.m = m;
    b.words = (m->n + 63) / 64;
    b.hmask = 2u * PS_DIGITRE_MAX_DFA - 1;
    b.hash = calloc((size_t)b.hmask + 1, sizeof *b.hash);
    b.stack = malloc((size_t)m->n * sizeof *b.stack);
    cur = calloc((size_t)b.words, sizeof *cur);
    from = malloc((size_t)b.words * sizeof *from);
    if (!b.hash || !b.stack || !cur || !from || intern(&b, cur) != 0) /* 0: empty set, dead */
        goto out;
    closure(&b, cur, start);
    if ((s0 = intern(&b, cur)) < 0)
        goto out;
    re->start = (uint16_t)s0;
    for (int k = 0; k < b.n; k++) { /* b.n grows while new sets are found */
        /* a copy: interning may move the sets */
        memcpy(from, b.sets + (size_t)k * (size_t)b.words, (size_t)b.words * sizeof *from);
        b.accept[k] = (unsigned char)(from[final / 64] >> (final % 64) & 1);
        for (int d = 0; d < 10; d++) {
            memset(cur, 0, (size_t)b.words * sizeof *cur);
            for (int w = 0; w < b.words; w++) {
                for (uint64_t x = from[w]; x; x &= x - 1) {
                    const nstate *st = &m->s[w * 64 + __builtin_ctzll(x)];
                    if (st->mask >> d & 1)
                        closure(&b, cur, st->to);
                }
            }
            int t = intern(&b, cur);
            if (t < 0)
                goto out;
            b.next[k][d] = (uint16_t)t;
        }
    }
    re->n = b.n;
    re->next = b.next;
    re->accept = b.accept;
    b.next = NULL;
    b.accept = NULL;
    ok = 1;
out:
    free(b.sets);
    free(b.next);
    free(b.accept);
    free(b.hash);
    free(b.stack);
    free(cur);
    free(from);
    return ok;
}

/* Whether no accepting state leads on to a state from which acceptance is reachable. */
static int prefix_free(const ps_digitre *re, int n)
{
    unsigned char *live = calloc((size_t)n, 1);
    int changed = 1, pf = 1;
    if (!live)
        return 0;
    for (int k = 0; k < n; k++)
        live[k] = re->accept[k];
    while (changed) {
        changed = 0;
        for (int k = 1; k < n; k++)
            for (int d = 0; d < 10 && !live[k]; d++)
                if (live[re->next[k][d]])
                    live[k] = 1, changed = 1;
    }
    for (int k = 1; k < n && pf; k++)
        if (re->accept[k])
            for (int d = 0; d < 10; d++)
                if (live[re->next[k][d]])
                    pf = 0;
    free(live);
    return pf;
}

ps_digitre *ps_digitre_compile(const char *pattern)
{
    parser *ps;
    nfa m = {0};
    ps_digitre *re = NULL;
    int root, st, en;
    if (!pattern)
        return NULL;
    ps = calloc(1, sizeof *ps);
    if (!ps)
        return NULL;
    ps->p = pattern;
    root = parse_alt(ps);
    if (ps->bad || *ps->p) /* a ')' without its '(' */
        goto fail;
    m.s = malloc(PS_DIGITRE_MAX_NFA * sizeof *m.s);
    re = calloc(1, sizeof *re);
    if (!m.s || !re)
        goto fail;
    frag(&m, ps, root, &st, &en);
    if (m.bad || !build_dfa(re, &m, st, en))
        goto fail;
    re->prefix_free = prefix_free(re, re->n);
    free(m.s);
    free(ps);
    return re;
fail:
    free(m.s);
    free(ps);
    ps_digitre_free(re);
    return NULL;
}

void ps_digitre_free(ps_digitre *re)
{
    if (!re)
        return;
    free(re->next);
    free(re->accept);
    free(re);
}

int ps_digitre_full(const ps_digitre *re, const char *s, size_t n)
{
    unsigned st = re->start;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9)
            return 0;
        st = re->next[st][d];
        if (st == 0)
            return 0;
    }
    return re->accept[st];
}

int ps_digitre_prefix_free(const ps_digitre *re)
{
    return re->prefix_free;
}

long ps_digitre_consume(const ps_digitre *re, const char *s, size_t n)
{
    unsigned st = re->start;
    if (re->accept[st])
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9)
            return -1;
        st = re->next[st][d];
        if (st == 0)
            return -1;
        if (re->accept[st])
            return (long)(i + 1);
    }
    return -1;
}
