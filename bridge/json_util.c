#include "json_util.h"

#include <string.h>

const char *json_duplicate_key(const cJSON *obj)
{
	for (const cJSON *a = obj->child; a; a = a->next)
		for (const cJSON *b = a->next; b; b = b->next)
			if (a->string && b->string && strcmp(a->string, b->string) == 0)
				return a->string;
	return NULL;
}

const cJSON *json_member(const cJSON *obj, const char *name)
{
	for (const cJSON *v = obj->child; v; v = v->next)
		if (v->string && strcmp(v->string, name) == 0)
			return v;
	return NULL;
}
