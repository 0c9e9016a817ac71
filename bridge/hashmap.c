#include "hashmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* No cached hash: 16 bytes a slot matters at a million seals, and a probe
 * that reaches strcmp usually differs in the first bytes. */
struct hashmap_slot {
	const char *key; /* NULL empty; TOMB deleted */
	void *value;
};

static const char TOMB[1];

uint64_t hashmap_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void hashmap_init(struct hashmap *m)
{
	memset(m, 0, sizeof(*m));
}

void hashmap_free(struct hashmap *m)
{
	if (!m)
		return;
	free(m->slots);
	hashmap_init(m);
}

static struct hashmap_slot *find(const struct hashmap *m, const char *key, uint64_t h)
{
	if (!m->cap)
		return NULL;
	size_t mask = m->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct hashmap_slot *s = &m->slots[i];
		if (!s->key)
			return NULL;
		if (s->key != TOMB && strcmp(s->key, key) == 0)
			return s;
	}
}

static int grow(struct hashmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 16;
	/* Many tombstones and few live entries: rehash at the same size. */
	if (m->cap && (m->used - m->tombs) * 4 < m->cap)
		ncap = m->cap;
	struct hashmap_slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -1;
	for (size_t i = 0; i < m->cap; i++) {
		struct hashmap_slot *s = &m->slots[i];
		if (!s->key || s->key == TOMB)
			continue;
		size_t j = hashmap_hash(s->key) & (ncap - 1);
		while (ns[j].key)
			j = (j + 1) & (ncap - 1);
		ns[j] = *s;
	}
	free(m->slots);
	m->slots = ns;
	m->used -= m->tombs;
	m->tombs = 0;
	m->cap = ncap;
	return 0;
}

void *hashmap_get(const struct hashmap *m, const char *key)
{
	struct hashmap_slot *s = find(m, key, hashmap_hash(key));
	return s ? s->value : NULL;
}

int hashmap_put(struct hashmap *m, const char *key, void *value)
{
	uint64_t h = hashmap_hash(key);
	struct hashmap_slot *s = find(m, key, h);
	if (s) {
		s->key = key;
		s->value = value;
		return 0;
	}
	if ((m->used + 1) * 4 > m->cap * 3 && grow(m) < 0)
		return -1;
	size_t mask = m->cap - 1;
	size_t i = h & mask;
	while (m->slots[i].key && m->slots[i].key != TOMB)
		i = (i + 1) & mask;
	if (m->slots[i].key == TOMB)
		m->tombs--;
	else
		m->used++;
	m->slots[i].key = key;
	m->slots[i].value = value;
	return 0;
}

void *hashmap_del(struct hashmap *m, const char *key)
{
	struct hashmap_slot *s = find(m, key, hashmap_hash(key));
	if (!s)
		return NULL;
	void *v = s->value;
	s->key = TOMB;
	s->value = NULL;
	m->tombs++;
	return v;
}

void *hashmap_take(struct hashmap *m, const char *key, const char **key_out)
{
	struct hashmap_slot *s = find(m, key, hashmap_hash(key));
	*key_out = s ? s->key : NULL;
	return s ? hashmap_del(m, key) : NULL;
}

size_t hashmap_size(const struct hashmap *m)
{
	return m->used - m->tombs;
}

void hashmap_each(const struct hashmap *m, void (*fn)(const char *key, void *value, void *arg), void *arg)
{
	for (size_t i = 0; i < m->cap; i++) {
		const struct hashmap_slot *s = &m->slots[i];
		if (s->key && s->key != TOMB)
			fn(s->key, s->value, arg);
	}
}

size_t hashmap_scan(const struct hashmap *m, size_t from, size_t slots,
		    void (*fn)(const char *key, void *value, void *arg), void *arg)
{
	size_t i = from;
	for (; i < m->cap && i - from < slots; i++) {
		const struct hashmap_slot *s = &m->slots[i];
		if (s->key && s->key != TOMB)
			fn(s->key, s->value, arg);
	}
	return i < m->cap ? i : 0;
}
