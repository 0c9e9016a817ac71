/* String-keyed hash map (open addressing). Keys are NOT copied: each key must
 * stay valid while its entry is in the map (they point into the owning object). */
#ifndef SB_HASHMAP_H
#define SB_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

struct hashmap {
	struct hashmap_slot *slots;
	size_t cap, used, tombs;
};

/* FNV-1a of a string: the hash of both this map and objmap. */
uint64_t hashmap_hash(const char *s);

void hashmap_init(struct hashmap *m);
void hashmap_free(struct hashmap *m); /* frees the table, not keys or values */
void *hashmap_get(const struct hashmap *m, const char *key);
/* Inserts or replaces. 0, or -1 on OOM. */
int hashmap_put(struct hashmap *m, const char *key, void *value);
/* Returns the removed value or NULL. */
void *hashmap_del(struct hashmap *m, const char *key);
/* The same, and the key it was stored under (for maps that own their keys). */
void *hashmap_take(struct hashmap *m, const char *key, const char **key_out);
size_t hashmap_size(const struct hashmap *m);
/* Visits every entry; fn must not change the map. */
void hashmap_each(const struct hashmap *m, void (*fn)(const char *key, void *value, void *arg), void *arg);

/* Visits the entries in slots [from, from + slots) and returns where to go on,
 * 0 once the end of the table was reached: an incremental walk. */
size_t hashmap_scan(const struct hashmap *m, size_t from, size_t slots,
		    void (*fn)(const char *key, void *value, void *arg), void *arg);

#endif
