/* Minimal assertion helpers for the unit tests: a failing check prints where and exits 1. */
#ifndef SB_TEST_CHECK_H
#define SB_TEST_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_count;
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		check_count++;                                                                     \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)
#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		check_count++;                                                                     \
		const char *ca_ = (a), *cb_ = (b);                                                 \
		if (!ca_ || !cb_ || strcmp(ca_, cb_) != 0) {                                       \
			fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__,           \
				ca_ ? ca_ : "(null)", cb_ ? cb_ : "(null)");                       \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)
#define RUN(fn)                                                                                    \
	do {                                                                                       \
		fn();                                                                              \
		printf("ok %s\n", #fn);                                                            \
	} while (0)
#define DONE()                                                                                     \
	do {                                                                                       \
		printf("%d checks passed\n", check_count);                                         \
		return 0;                                                                          \
	} while (0)
#endif
