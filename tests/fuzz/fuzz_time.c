/* RFC 3339 times (codec_parse_time, codec_format_time): every accepted text
 * formats back to text that parses to the same instant, within the years the
 * formatter can write. */
#include "codec.h"
#include "fuzz_check.h"

/* 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z, the formatter's clamp. */
#define FORMAT_LO_MS (-62167219200000LL)
#define FORMAT_HI_MS 253402300799999LL

/* The formatter's fixed shape: YYYY-MM-DDTHH:MM:SS.mmmZ. */
static int well_shaped(const char *t)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	if (strlen(t) != sizeof shape - 1)
		return 0;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != shape[i])
			return 0;
	}
	return 1;
}

static void check_round_trip(int64_t ms)
{
	char t[32];
	int64_t back = 0;
	codec_format_time(ms, t);
	FUZZ_CHECK(well_shaped(t));
	FUZZ_CHECK(codec_parse_time(t, &back) == 0);
	if (ms < FORMAT_LO_MS)
		FUZZ_CHECK(back == FORMAT_LO_MS);
	else if (ms > FORMAT_HI_MS)
		FUZZ_CHECK(back == FORMAT_HI_MS);
	else
		FUZZ_CHECK(back == ms);
}

/* An accepted s rewritten in the formatter's shape: 'T' and 'Z' upper case,
 * exactly three fraction digits, the offset applied as "Z". It must parse to
 * the same instant, and (within the formatter's years) be what the formatter
 * writes for it: this pins down the calendar, fraction and offset arithmetic,
 * which the round trip alone cannot see. */
static void check_canonical(const char *s, int64_t ms)
{
	char t[40], f[32];
	int64_t back = 0;
	const char *p = s + 19;
	int frac = 0;

	memcpy(t, s, 19);
	t[10] = 'T';
	t[19] = '.';
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, frac++)
			if (frac < 3)
				t[20 + frac] = *p;
	}
	for (; frac < 3; frac++)
		t[20 + frac] = '0';
	t[23] = 'Z';
	t[24] = '\0';
	int64_t shift = 0;
	if (*p == '+' || *p == '-') {
		int mins = ((p[1] - '0') * 10 + (p[2] - '0')) * 60 + (p[4] - '0') * 10 + (p[5] - '0');
		shift = (*p == '-' ? 1 : -1) * (int64_t)mins * 60000;
	}
	FUZZ_CHECK(codec_parse_time(t, &back) == 0);
	FUZZ_CHECK(back + shift == ms);
	if (back >= FORMAT_LO_MS && back <= FORMAT_HI_MS) {
		codec_format_time(back, f);
		FUZZ_CHECK(strcmp(f, t) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Heap copy of exactly size + 1 bytes, so ASan sees any read past the NUL. */
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	int64_t ms = 0;
	int rc = codec_parse_time(s, &ms);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == 0) {
		/* The shortest accepted form is "YYYY-MM-DDTHH:MM:SSZ". */
		FUZZ_CHECK(strlen(s) >= 20);
		check_round_trip(ms);
		check_canonical(s, ms);
	}
	free(s);

	/* The same bytes as a raw instant: formatting must hold for any int64. */
	if (size >= sizeof(int64_t)) {
		int64_t raw;
		memcpy(&raw, data, sizeof raw);
		check_round_trip(raw);
	}
	return 0;
}
