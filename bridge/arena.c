#include "arena.h"

#include <stdint.h>
#include <stdlib.h>

#define BLOCK_BYTES (1u << 20)

struct arena_block {
	struct arena_block *next;
	size_t size, off;
	_Alignas(16) unsigned char mem[];
};

void *arena_alloc(struct arena *a, size_t n, size_t align)
{
	struct arena_block *b = a->head;
	size_t off = b ? (b->off + align - 1) & ~(align - 1) : 0;
	if (!b || off > b->size || b->size - off < n) {
		size_t size = n > BLOCK_BYTES ? n : BLOCK_BYTES;
		/* calloc: zeroed pages, touched only as objects are placed. */
		b = calloc(1, sizeof(*b) + size);
		if (!b)
			return NULL;
		b->size = size;
		b->next = a->head;
		a->head = b;
		off = 0;
	}
	b->off = off + n;
	a->used += n;
	return b->mem + off;
}

void arena_free(struct arena *a)
{
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *n = b->next;
		free(b);
		b = n;
	}
	a->head = NULL;
	a->used = 0;
}
