/* paysync core: per-batch (or per-run) bump allocator (internal; plugins reach
 * ps_arena_alloc and ps_arena_strndup through ps_host). */
#ifndef PS_UTIL_ARENA_H
#define PS_UTIL_ARENA_H

#include <stddef.h>

#include "paysync/arena.h"

/* Creates an arena whose blocks are at least block_size bytes (0 = 64 KiB).
 * Returns NULL on allocation failure. Free with ps_arena_destroy. */
ps_arena *ps_arena_create(size_t block_size);

/* Frees every block and the arena itself. NULL is ignored. */
void ps_arena_destroy(ps_arena *a);

/* Returns size bytes aligned to 16, valid until reset/destroy; NULL when out of memory. */
void *ps_arena_alloc(ps_arena *a, size_t size);

/* Copies len bytes of s and appends a NUL; NULL when out of memory. */
char *ps_arena_strndup(ps_arena *a, const char *s, size_t len);

/* Forgets every allocation but keeps the first block for reuse (memory stays bounded). */
void ps_arena_reset(ps_arena *a);

/* Bytes currently handed out (for tests and metrics). */
size_t ps_arena_used(const ps_arena *a);

#endif
