/* Minimal assertion helpers for the unit tests. A failing check prints where,
 * is counted, and the test goes on, so that one failure does not hide the
 * others in the same executable; DONE() exits non-zero if any check failed.
 * REQUIRE() is for the few checks the rest of a test cannot survive without
 * (a NULL handle about to be used): it ends the executable at once. */
#ifndef SB_TEST_CHECK_H
#define SB_TEST_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_count;
static int check_failed;
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		check_count++;                                                                     \
		if (!(cond)) {                                                                     \
			check_failed++;                                                            \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
			fflush(stderr);                                                            \
		}                                                                                  \
	} while (0)
#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		check_count++;                                                                     \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: required check failed: %s (%d earlier failures)\n", \
				__FILE__, __LINE__, #cond, check_failed);                          \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)
#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		check_count++;                                                                     \
		const char *ca_ = (a), *cb_ = (b);                                                 \
		if (!ca_ || !cb_ || strcmp(ca_, cb_) != 0) {                                       \
			check_failed++;                                                            \
			fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__,           \
				ca_ ? ca_ : "(null)", cb_ ? cb_ : "(null)");                       \
			fflush(stderr);                                                            \
		}                                                                                  \
	} while (0)
#define RUN(fn)                                                                                    \
	do {                                                                                       \
		int before_ = check_failed;                                                        \
		fn();                                                                              \
		if (check_failed == before_)                                                       \
			printf("ok %s\n", #fn);                                                    \
		else                                                                               \
			printf("not ok %s (%d failed checks)\n", #fn, check_failed - before_);    \
		fflush(stdout);                                                                    \
	} while (0)
#define DONE()                                                                                     \
	do {                                                                                       \
		if (check_failed) {                                                                \
			printf("%d of %d checks FAILED\n", check_failed, check_count);             \
			return 1;                                                                  \
		}                                                                                  \
		printf("%d checks passed\n", check_count);                                         \
		return 0;                                                                          \
	} while (0)
#endif
