/* The two big tables (households and seals) and the arena they live in:
 * lookups by the object's inline id after growth, the incremental scan used
 * to flush liveness, and arena alignment across blocks. */
#include <stdint.h>

#include "arena.h"
#include "check.h"
#include "objmap.h"

#define N 20000

struct obj {
	int n;
	char id[];
};

static void count_one(void *obj, void *arg)
{
	(void)obj;
	(*(size_t *)arg)++;
}

static void test_add_get_grow(void)
{
	struct arena a = {0};
	struct objmap m;
	objmap_init(&m, offsetof(struct obj, id));
	CHECK(objmap_get(&m, "seal-00000") == NULL); /* empty table */
	struct obj *o[N];
	for (int i = 0; i < N; i++) {
		o[i] = arena_alloc(&a, sizeof(struct obj) + 12, _Alignof(struct obj));
		CHECK(o[i] != NULL);
		o[i]->n = i;
		snprintf(o[i]->id, 12, "seal-%05d", i);
		CHECK(objmap_add(&m, o[i]) == 0);
	}
	CHECK(objmap_size(&m) == N);
	for (int i = 0; i < N; i++) {
		char k[12];
		snprintf(k, sizeof k, "seal-%05d", i);
		CHECK(objmap_get(&m, k) == o[i]);
	}
	CHECK(objmap_get(&m, "seal-99999") == NULL);
	CHECK(objmap_get(&m, "seal-0000") == NULL); /* a prefix is not a match */
	size_t seen = 0;
	objmap_each(&m, count_one, &seen);
	CHECK(seen == N);
	objmap_free(&m);
	CHECK(objmap_size(&m) == 0 && objmap_get(&m, "seal-00001") == NULL);
	arena_free(&a);
}

static void test_scan_in_steps(void)
{
	struct arena a = {0};
	struct objmap m;
	objmap_init(&m, offsetof(struct obj, id));
	for (int i = 0; i < 1000; i++) {
		struct obj *o = arena_alloc(&a, sizeof(struct obj) + 8, _Alignof(struct obj));
		snprintf(o->id, 8, "d%d", i);
		CHECK(objmap_add(&m, o) == 0);
	}
	size_t seen = 0, from = 0, passes = 0;
	do {
		from = objmap_scan(&m, from, 100, count_one, &seen);
		passes++;
	} while (from != 0);
	CHECK(seen == 1000); /* every object once, however the walk is cut */
	CHECK(passes > 1);
	objmap_free(&m);
	arena_free(&a);
}

static void test_arena(void)
{
	struct arena a = {0};
	char *s = arena_alloc(&a, 9, 1);
	REQUIRE(s != NULL);
	memcpy(s, "3-2-1502", 9);
	CHECK_STR(s, "3-2-1502");
	for (int i = 0; i < 100000; i++) {
		/* odd sizes and alignments, across many blocks */
		void *p = arena_alloc(&a, (size_t)(i % 37) + 1, i % 2 ? 8 : 1);
		REQUIRE(p != NULL);
		if (i % 2)
			CHECK(((uintptr_t)p & 7) == 0);
	}
	unsigned char *big = arena_alloc(&a, 3u << 20, 16); /* larger than a block */
	CHECK(big != NULL && ((uintptr_t)big & 15) == 0);
	CHECK(big[0] == 0 && big[(3u << 20) - 1] == 0); /* zeroed */
	CHECK_STR(s, "3-2-1502"); /* earlier allocations stay put */
	arena_free(&a);
	CHECK(a.head == NULL);
}

int main(void)
{
	RUN(test_add_get_grow);
	RUN(test_scan_in_steps);
	RUN(test_arena);
	DONE();
}
