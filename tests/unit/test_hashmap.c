/* The string map under the roster: lookups after growth, deletion with
 * tombstones, and the incremental scan used to flush liveness. */
#include "check.h"
#include "hashmap.h"

#define N 20000
static char keys[N][12];

static void count_one(const char *k, void *v, void *arg)
{
	(void)k;
	(void)v;
	(*(size_t *)arg)++;
}

static void test_put_get_grow(void)
{
	struct hashmap m;
	hashmap_init(&m);
	for (int i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "seal-%05d", i);
		CHECK(hashmap_put(&m, keys[i], keys[i]) == 0);
	}
	CHECK(hashmap_size(&m) == N);
	for (int i = 0; i < N; i++)
		CHECK(hashmap_get(&m, keys[i]) == keys[i]);
	char probe[12] = "seal-00042";
	CHECK(hashmap_get(&m, probe) == keys[42]); /* equal text, other pointer */
	CHECK(hashmap_get(&m, "seal-99999") == NULL);
	hashmap_free(&m);
}

static void test_delete_and_reuse(void)
{
	struct hashmap m;
	hashmap_init(&m);
	for (int i = 0; i < N; i++)
		CHECK(hashmap_put(&m, keys[i], keys[i]) == 0);
	for (int i = 0; i < N; i += 2)
		CHECK(hashmap_del(&m, keys[i]) == keys[i]);
	CHECK(hashmap_del(&m, keys[0]) == NULL);
	CHECK(hashmap_size(&m) == N / 2);
	for (int i = 0; i < N; i++)
		CHECK(hashmap_get(&m, keys[i]) == (i % 2 ? keys[i] : NULL));
	/* churn: many deletions and insertions must not fill the table with tombstones */
	for (int round = 0; round < 20; round++)
		for (int i = 0; i < N; i += 2) {
			CHECK(hashmap_put(&m, keys[i], keys[i]) == 0);
			CHECK(hashmap_del(&m, keys[i]) == keys[i]);
		}
	CHECK(hashmap_size(&m) == N / 2);
	CHECK(m.cap <= 4 * 32768);
	size_t seen = 0;
	hashmap_each(&m, count_one, &seen);
	CHECK(seen == N / 2);
	hashmap_free(&m);
}

static void test_scan_visits_each_once(void)
{
	struct hashmap m;
	hashmap_init(&m);
	for (int i = 0; i < N; i++)
		CHECK(hashmap_put(&m, keys[i], keys[i]) == 0);
	size_t seen = 0, from = 0;
	int calls = 0;
	do {
		from = hashmap_scan(&m, from, 1000, count_one, &seen);
		calls++;
	} while (from != 0 && calls < 10000);
	CHECK(seen == N);
	CHECK(calls == (int)((m.cap + 999) / 1000));
	hashmap_free(&m);
}

int main(void)
{
	RUN(test_put_get_grow);
	RUN(test_delete_and_reuse);
	RUN(test_scan_visits_each_once);
	DONE();
}
