/* JSON to and from our structs. No cJSON type crosses this boundary.
 * Decoders check the size before parsing, reject duplicate keys, mistyped
 * and out-of-range values, and say what was wrong in err (a short text). */
#ifndef SB_CODEC_H
#define SB_CODEC_H

#include "engine.h"
#include "model.h"

#define CODEC_ERR_MAX 200

/* Report payload (at most SB_REPORT_MAX bytes). 0 or -1 with err set. */
int codec_decode_report(const char *buf, size_t len, struct report *out, char err[CODEC_ERR_MAX]);

/* Command payload for op (from the topic). Fills c->request_id and c->reply_to
 * whenever they are readable, even when it then fails, so that the error can
 * still be answered. 0 or -1 with err set. */
int codec_decode_command(enum sb_op op, const char *buf, size_t len, struct command *c,
			 char err[CODEC_ERR_MAX]);

/* RFC 3339 UTC with milliseconds, "2026-11-29T04:00:00.123Z". out needs 32 bytes. */
void codec_format_time(int64_t wall_ms, char out[32]);
/* Accepts RFC 3339 (Z or +hh:mm, optional fraction) and returns ms since the epoch. */
int codec_parse_time(const char *s, int64_t *out_ms);

/* Encoders return a malloc'd NUL-terminated string (caller frees) or NULL on OOM. */
char *codec_encode_alert(const struct alert_msg *m);
char *codec_encode_state(const struct household *h, int64_t at_ms);
char *codec_encode_stats(const struct stats_msg *m);
/* R/state/seal/<device_id> (codec_seal.c). */
char *codec_encode_seal(const struct seal_rec *r);
char *codec_encode_reply(const struct command *c, enum sb_op op, const struct cmd_result *r);
/* For a command whose op or body could not be decoded: op_name may be the raw topic segment. */
char *codec_encode_error_reply(const char *request_id, const char *op_name, const char *error,
			       const char *message);
char *codec_encode_rejected(const char *topic, const char *reason, const char *detail, int64_t at_ms);
char *codec_encode_status(const char *state, const char *version, int64_t at_ms, const char *error);

#endif
