/* Bump allocator for what lives as long as the engine (households, seals and
 * the strings they were loaded with): no per-object malloc header or rounding,
 * which is 16-24 bytes an object at a million seals. Freed all at once. */
#ifndef SB_ARENA_H
#define SB_ARENA_H

#include <stddef.h>

struct arena {
	struct arena_block *head;
	size_t used; /* bytes handed out, for statistics */
};

/* Zeroed memory aligned to align (a power of two <= 16), or NULL on OOM. */
void *arena_alloc(struct arena *a, size_t n, size_t align);
void arena_free(struct arena *a);

#endif
