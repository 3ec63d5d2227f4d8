/* paysync: the bump allocator type. Plugins allocate through ps_host (arena_alloc,
 * arena_strndup); the functions themselves are internal to the core (util/arena.h). */
#ifndef PAYSYNC_ARENA_H
#define PAYSYNC_ARENA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ps_arena ps_arena;

#ifdef __cplusplus
}
#endif
#endif
