/* paysync core: bump allocator with reusable first block. */
#include "util/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct ps_block {
    struct ps_block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
} ps_block;

struct ps_arena {
    ps_block *head; /* current block (most recent) */
    ps_block *first;
    size_t block_size;
    size_t total_used;
};

#define PS_ALIGN 16u
#define PS_HDR ((sizeof(ps_block) + PS_ALIGN - 1) & ~(size_t)(PS_ALIGN - 1))

static ps_block *block_new(size_t size)
{
    ps_block *b = malloc(PS_HDR + size);
    if (!b)
        return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

ps_arena *ps_arena_create(size_t block_size)
{
    ps_arena *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
    a->first = block_new(a->block_size);
    if (!a->first) {
        free(a);
        return NULL;
    }
    a->head = a->first;
    return a;
}

static void free_chain(ps_block *b, ps_block *stop)
{
    while (b && b != stop) {
        ps_block *n = b->next;
        free(b);
        b = n;
    }
}

void ps_arena_destroy(ps_arena *a)
{
    if (!a)
        return;
    free_chain(a->head, NULL);
    free(a);
}

void *ps_arena_alloc(ps_arena *a, size_t size)
{
    size_t need = (size + PS_ALIGN - 1) & ~(size_t)(PS_ALIGN - 1);
    if (need < size)
        return NULL;
    ps_block *b = a->head;
    if (b->size - b->used < need) {
        size_t bs = need > a->block_size ? need : a->block_size;
        ps_block *nb = block_new(bs);
        if (!nb)
            return NULL;
        nb->next = b; /* chain newest first; first block is the tail */
        a->head = nb;
        b = nb;
    }
    void *p = (char *)b + PS_HDR + b->used;
    b->used += need;
    a->total_used += need;
    return p;
}

char *ps_arena_strndup(ps_arena *a, const char *s, size_t len)
{
    char *p = ps_arena_alloc(a, len + 1);
    if (!p)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void ps_arena_reset(ps_arena *a)
{
    if (!a)
        return;
    free_chain(a->head, a->first);
    a->head = a->first;
    a->first->used = 0;
    a->total_used = 0;
}

size_t ps_arena_used(const ps_arena *a)
{
    return a ? a->total_used : 0;
}
