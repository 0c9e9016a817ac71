/* cJSON helpers shared by the decoders (codec.c, vendor.c); only they include it. */
#ifndef SB_JSON_UTIL_H
#define SB_JSON_UTIL_H

#include <cjson/cJSON.h>

/* cJSON's lookup returns the first of duplicate keys; a reader that takes the
 * last would see another value, so decoders refuse duplicates outright.
 * Returns the first key that appears twice among obj's members, or NULL. */
const char *json_duplicate_key(const cJSON *obj);

/* Exact (case-sensitive) member lookup; NULL when absent. */
const cJSON *json_member(const cJSON *obj, const char *name);

#endif
