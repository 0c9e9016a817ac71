/* Device report payloads (codec_decode_report): arbitrary bytes from any seal. */
#include "codec.h"
#include "fuzz_check.h"

#define MAX_SAFE_INT 9007199254740991LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report r;
	char err[CODEC_ERR_MAX];

	/* The exact-size buffer, not NUL-terminated: the decoder must respect len. */
	int rc = codec_decode_report((const char *)data, size, &r, err);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(fuzz_terminated(err, CODEC_ERR_MAX));
	if (rc < 0) {
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(fuzz_printable(err));
		return 0;
	}
	FUZZ_CHECK(size > 0 && size <= SB_REPORT_MAX);
	FUZZ_CHECK(r.has_door == 0 || r.has_door == 1);
	if (r.has_door)
		FUZZ_CHECK(r.door == SB_DOOR_OPEN || r.door == SB_DOOR_CLOSED);
	else
		FUZZ_CHECK(r.door == SB_DOOR_UNKNOWN);
	FUZZ_CHECK(r.has_battery == 0 || r.has_battery == 1);
	if (r.has_battery)
		FUZZ_CHECK(r.battery >= 0 && r.battery <= 100);
	else
		FUZZ_CHECK(r.battery == -1);
	FUZZ_CHECK(r.has_tamper == 0 || r.has_tamper == 1);
	if (r.has_tamper)
		FUZZ_CHECK(r.tamper == 0 || r.tamper == 1);
	else
		FUZZ_CHECK(r.tamper == -1);
	FUZZ_CHECK(r.has_seq == 0 || r.has_seq == 1);
	FUZZ_CHECK(r.has_seq ? (r.seq >= 0 && r.seq <= MAX_SAFE_INT) : r.seq == 0);
	FUZZ_CHECK(r.has_ts == 0 || r.has_ts == 1);
	FUZZ_CHECK(r.has_ts ? (r.ts >= 0 && r.ts <= MAX_SAFE_INT) : r.ts == 0);
	return 0;
}
