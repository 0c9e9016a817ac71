/* Households and seals carry their id inline, as the engine lays them out:
 * a test's own need room for it. */
#ifndef SB_TEST_MODEL_H
#define SB_TEST_MODEL_H

#include "model.h"

union test_household {
	struct household o;
	char room[sizeof(struct household) + 32];
};
union test_device {
	struct device o;
	char room[sizeof(struct device) + 32];
};

#endif
