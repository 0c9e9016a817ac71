/* Map from id to object for the two big tables (households and seals): a slot
 * is one pointer, and the key is the object's own id, at a fixed offset. Objects
 * leave only through retention (objmap_del), which shifts the cluster back, so
 * there is no tombstone. At a million seals this halves the tables. */
#ifndef SB_OBJMAP_H
#define SB_OBJMAP_H

#include <stddef.h>

struct objmap {
	void **slots;
	size_t cap, used;
	size_t key_off; /* where the object's id (a char array) is */
};

void objmap_init(struct objmap *m, size_t key_off);
void objmap_free(struct objmap *m); /* frees the table, not the objects */
void *objmap_get(const struct objmap *m, const char *id);
/* Inserts; the id must not be in the map yet. 0, or -1 on OOM. */
int objmap_add(struct objmap *m, void *obj);
/* Removes the object with this id (retention: released households); returns it or NULL.
 * Linear probing with backward shift, so no tombstone is needed. */
void *objmap_del(struct objmap *m, const char *id);
size_t objmap_size(const struct objmap *m);
void objmap_each(const struct objmap *m, void (*fn)(void *obj, void *arg), void *arg);
/* Visits the objects in slots [from, from + slots) and returns where to go on,
 * 0 once the end of the table was reached: an incremental walk. */
size_t objmap_scan(const struct objmap *m, size_t from, size_t slots, void (*fn)(void *obj, void *arg), void *arg);

#endif
