#include "objmap.h"
#include "hashmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *key_of(const struct objmap *m, const void *obj)
{
	return (const char *)obj + m->key_off;
}

void objmap_init(struct objmap *m, size_t key_off)
{
	memset(m, 0, sizeof(*m));
	m->key_off = key_off;
}

void objmap_free(struct objmap *m)
{
	free(m->slots);
	objmap_init(m, m->key_off);
}

void *objmap_get(const struct objmap *m, const char *id)
{
	if (!m->cap)
		return NULL;
	size_t mask = m->cap - 1;
	for (size_t i = hashmap_hash(id) & mask; m->slots[i]; i = (i + 1) & mask)
		if (strcmp(key_of(m, m->slots[i]), id) == 0)
			return m->slots[i];
	return NULL;
}

static void place(const struct objmap *m, void **slots, size_t cap, void *obj)
{
	size_t i = hashmap_hash(key_of(m, obj)) & (cap - 1);
	while (slots[i])
		i = (i + 1) & (cap - 1);
	slots[i] = obj;
}

int objmap_add(struct objmap *m, void *obj)
{
	/* Load up to 3/4: linear probing stays short, and a probe costs a visit to the object. */
	if ((m->used + 1) * 4 > m->cap * 3) {
		size_t ncap = m->cap ? m->cap * 2 : 16;
		void **ns = calloc(ncap, sizeof(*ns));
		if (!ns)
			return -1;
		for (size_t i = 0; i < m->cap; i++)
			if (m->slots[i])
				place(m, ns, ncap, m->slots[i]);
		free(m->slots);
		m->slots = ns;
		m->cap = ncap;
	}
	place(m, m->slots, m->cap, obj);
	m->used++;
	return 0;
}

void *objmap_del(struct objmap *m, const char *id)
{
	if (!m->cap)
		return NULL;
	size_t mask = m->cap - 1, i = hashmap_hash(id) & mask;
	while (m->slots[i] && strcmp(key_of(m, m->slots[i]), id) != 0)
		i = (i + 1) & mask;
	void *obj = m->slots[i];
	if (!obj)
		return NULL;
	m->slots[i] = NULL;
	m->used--;
	/* Move back every later object of the cluster that may no longer be found. */
	for (size_t j = (i + 1) & mask; m->slots[j]; j = (j + 1) & mask) {
		size_t home = hashmap_hash(key_of(m, m->slots[j])) & mask;
		/* It stays when its home lies cyclically in (i, j]. */
		int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			m->slots[i] = m->slots[j];
			m->slots[j] = NULL;
			i = j;
		}
	}
	return obj;
}

size_t objmap_size(const struct objmap *m)
{
	return m->used;
}

void objmap_each(const struct objmap *m, void (*fn)(void *obj, void *arg), void *arg)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i])
			fn(m->slots[i], arg);
}

size_t objmap_scan(const struct objmap *m, size_t from, size_t slots, void (*fn)(void *obj, void *arg), void *arg)
{
	size_t i = from;
	for (; i < m->cap && i - from < slots; i++)
		if (m->slots[i])
			fn(m->slots[i], arg);
	return i < m->cap ? i : 0;
}
