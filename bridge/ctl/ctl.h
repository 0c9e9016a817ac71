/* sealctl internals: shared by the files of the operators' command-line tool. */
#ifndef SB_CTL_H
#define SB_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Exit codes, as the help text promises them. */
enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_REFUSED = 1,  /* the daemon answered with an error, or a row failed */
	CTL_EXIT_USAGE = 2,
	CTL_EXIT_NO_REPLY = 3, /* no reply, cannot connect, cannot open the database */
};

#define CTL_ERR_MAX 512

struct ctl {
	struct config cfg;  /* connection settings, topic root, store path */
	int64_t timeout_ms; /* --timeout */
	char tag[64];       /* "sealctl-<pid>-<random>": client id and reply topic */
	/* Options as given, before or after the subcommand; ctl_settle() applies
	 * them over the settings file, whatever their order on the line. */
	const char *config_path, *uri, *username, *password, *topic_root;
};

/* ---- TIME arguments (ctl_time.c) */
struct ctl_time {
	int64_t ms;          /* the instant, ms since the epoch */
	int is_seconds;      /* given as integer seconds: sent as a JSON number */
	int64_t seconds;
	char text[64];       /* otherwise the RFC 3339 text to send */
};
/* RFC 3339, integer seconds since the epoch, or now +/- N s|m|h|d ("+2h", "-30m").
 * 0, or -1 with err set. */
int ctl_time_parse(const char *s, int64_t now_ms, struct ctl_time *out, char err[CTL_ERR_MAX]);
int64_t ctl_wall_ms(void);
/* Random bytes from /dev/urandom, or from the clocks and pid when it cannot be read. */
void ctl_random(void *buf, size_t n);
int64_t ctl_mono_ms(void);

/* ---- MQTT session (ctl_mqtt.c): Paho MQTTAsync, MQTT v5. Callbacks only
 * copy and queue; everything else happens on the caller's thread. */
struct ctl_msg {
	char *topic;
	char *payload; /* NUL-terminated copy; len excludes the NUL */
	size_t len;
	int retained;
	unsigned char *corr; /* correlation data or NULL */
	size_t corr_len;
	struct ctl_msg *next;
};
void ctl_msg_free(struct ctl_msg *m); /* NULL is a no-op */

struct ctl_session;
/* Connects within c->timeout_ms. reconnect: let Paho reconnect after a loss
 * (the caller resubscribes when ctl_session_reconnected() says so). */
int ctl_session_open(const struct ctl *c, int reconnect, struct ctl_session **out, char err[CTL_ERR_MAX]);
void ctl_session_close(struct ctl_session *s); /* NULL is a no-op */
/* QoS 1 subscriptions, waiting for the SUBACK; a refused filter is an error. */
int ctl_session_subscribe(struct ctl_session *s, const char *const *filters, int n, int64_t timeout_ms,
			  char err[CTL_ERR_MAX]);
/* QoS 1 publish, waiting for a PUBACK that is not a refusal. response_topic may be NULL. */
int ctl_session_publish(struct ctl_session *s, const char *topic, const char *payload,
			const char *response_topic, const void *corr, size_t corr_len, int64_t timeout_ms,
			char err[CTL_ERR_MAX]);
/* 1 and *out (caller frees) when a message came within wait_ms, 0 when none
 * did, -1 when the connection is lost (and not being re-established). */
int ctl_session_next(struct ctl_session *s, int64_t wait_ms, struct ctl_msg **out);
/* 1 once after each automatic reconnect. */
int ctl_session_reconnected(struct ctl_session *s);
/* Messages dropped because the queue was full; the count is reset. */
size_t ctl_session_dropped(struct ctl_session *s);

/* ---- commands (ctl_request.c) */
struct ctl_reply {
	int ok;
	char error[64];
	char message[512];
	char ids[256]; /* " household_id=... device_id=..." from the reply */
};
struct cJSON;
/* Subscribes to the reply topic R/reply/<tag>; once per session, before ctl_request. */
int ctl_request_begin(struct ctl_session *s, const struct ctl *c, char err[CTL_ERR_MAX]);
/* Sends body (which it does not free) to R/cmd/<op> and waits for the reply
 * that carries our correlation data.
 * 0 with *reply filled (ok or not), or -1 with err set (no reply / no connection). */
int ctl_request(struct ctl_session *s, const struct ctl *c, const char *op, struct cJSON *body,
		struct ctl_reply *reply, char err[CTL_ERR_MAX]);

enum ctl_kind { CTL_STR, CTL_TIME, CTL_INT, CTL_NUM, CTL_DAILY /* HH:MM-HH:MM -> {from, until} */ };
struct ctl_field {
	const char *opt;   /* long option, also the help name */
	const char *key;   /* JSON key, also the CSV column */
	enum ctl_kind kind;
	int required;
	const char *arg;   /* help: what the value is */
};
/* Adds key: value to body, typed by kind. 0, or -1 with err set (bad value, OOM). */
int ctl_field_set(struct cJSON *body, const struct ctl_field *f, const char *value, int64_t now_ms,
		  char err[CTL_ERR_MAX]);
extern const struct ctl_field ctl_admit_fields[];
extern const struct ctl_field ctl_install_fields[];
/* Seal custody (ctl_custody.c). */
extern const struct ctl_field ctl_register_fields[], ctl_allocate_fields[], ctl_inspect_fields[],
	ctl_swap_fields[];
/* register --csv, seals, collect-list: 1 with *rc set when argv[0] is one of them. */
int ctl_custody_dispatch(struct ctl *c, int argc, char **argv, int *rc);

/* Subcommands: argv[0] is the subcommand's name; each returns an exit code. */
int ctl_cmd_op(struct ctl *c, int argc, char **argv);
int ctl_cmd_import(struct ctl *c, int argc, char **argv);
int ctl_cmd_status(struct ctl *c, int argc, char **argv);
int ctl_cmd_watch(struct ctl *c, int argc, char **argv);
int ctl_cmd_export(struct ctl *c, int argc, char **argv);
int ctl_is_op(const char *name);

/* ---- common options (sealctl.c) */
/* getopt_long entries every subcommand accepts after its name, and their handler:
 * 1 if opt was one of them (handled), 0 if not, -1 on a bad value (reported). */
#define CTL_COMMON_OPTS                                                                            \
	{"config", required_argument, NULL, 'c'}, {"uri", required_argument, NULL, 0x101},         \
		{"username", required_argument, NULL, 0x102},                                      \
		{"password", required_argument, NULL, 0x103},                                      \
		{"topic-root", required_argument, NULL, 0x104},                                    \
		{"timeout", required_argument, NULL, 0x105}, {"help", no_argument, NULL, 'h'}
int ctl_common_opt(struct ctl *c, int opt, const char *arg);
/* Applies -c/defaults and overrides once the options are read; exit code or 0. */
/* The last lines of a per-row run (import, register --csv): why it stopped,
 * if it did, and the counts; returns the exit code for them. */
int ctl_rows_summary(size_t last_row, size_t rows, size_t ok, size_t failed, int stopped, int oom);
int ctl_settle(struct ctl *c);
extern const char ctl_common_help[];

#endif
