/* Settings file (INI, via inih) to struct config: table-driven, range-checked.
 * Errors are "file:line: message". */
#ifndef SB_CONFIG_H
#define SB_CONFIG_H

#include <stdint.h>

#define CONFIG_STR_MAX 512
#define CONFIG_ERR_MAX 1024
#define CONFIG_MODELS_MAX 32

struct config {
	struct {
		char uri[CONFIG_STR_MAX], client_id[CONFIG_STR_MAX], topic_root[CONFIG_STR_MAX];
		char username[CONFIG_STR_MAX], password[CONFIG_STR_MAX];
		char cafile[CONFIG_STR_MAX], certfile[CONFIG_STR_MAX], keyfile[CONFIG_STR_MAX];
		int keepalive;         /* seconds */
		int session_expiry;    /* seconds */
		int max_inflight;
	} mqtt;
	struct {
		char path[CONFIG_STR_MAX];
		int keep_days;              /* 0: keep for ever */
		int64_t retention_every_ms; /* how often old rows are looked for */
		int max_waiting_saves;      /* saves held in memory while the store fails */
		int64_t stop_retry_ms;      /* a stop during a store fault retries this long */
		int wal_limit_mb; /* the WAL is checkpointed with RESTART past this */
	} store;
	struct {
		int64_t silence_after_ms, unmonitored_after_ms, stats_interval_ms;
		int battery_low;
		char timezone[CONFIG_STR_MAX]; /* IANA zone of daily permits, "UTC" */
		int64_t status_interval_ms;    /* R/bridge/status online is republished this often */
	} timing;
	struct {
		int64_t street_after_ms, district_after_ms;
		int64_t reminder_after_ms; /* 0: no reminders */
	} escalation;
	/* [model.<name>] sections: a seal model's own settings (0 / -1: not set). */
	struct config_model {
		char name[65];
		int64_t silence_after_ms;
		int battery_low;
		int line, line_silence, line_battery;
	} models[CONFIG_MODELS_MAX];
	int n_models;
	struct {
		char level[16]; /* debug, info, warning, error */
		char file[CONFIG_STR_MAX]; /* "" = stderr */
	} log;
	/* Vendor sensors (vendor.h); all disabled by default. */
	struct {
		int enabled;
		char base_topic[CONFIG_STR_MAX];
		char gateway_id[CONFIG_STR_MAX]; /* the instance's gateway id, "z2m" */
	} zigbee2mqtt;
	struct {
		int enabled;
	} shelly;
	struct {
		int enabled;
		int switch_closed_on; /* 1: "Switch1":"ON" means closed (switch_closed = ON) */
	} tasmota;
};

void config_defaults(struct config *c);
/* 0, or -1 with err set to every problem found ("file:line: message", one per line). */
int config_load(const char *path, struct config *c, char err[CONFIG_ERR_MAX]);
/* Parses a duration in seconds ("900", "0.5") into ms. 0 or -1. */
int config_parse_seconds(const char *s, int64_t min_ms, int64_t max_ms, int64_t *out_ms);

#endif
