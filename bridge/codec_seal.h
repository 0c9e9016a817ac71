/* Seal custody payloads (codec_seal.c); codec.c uses the part of it that
 * lives inside the statistics. Private to the codec. */
#ifndef SB_CODEC_SEAL_H
#define SB_CODEC_SEAL_H

#include <cjson/cJSON.h>

#include "model.h"

/* Adds "seals": {state: count}; a count below 0 is left out (in_stock outside a district). */
void codec_add_seals(cJSON *o, const int seals[SB_SEAL_STATE_COUNT], int *ok);

#endif
