/* Incoming messages (on the transport's thread) and how their effects are
 * made durable: one store transaction per input, holding the state change and
 * the outbox rows of every message it causes, committed before we return (the
 * PUBACK to the broker follows our return). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "codec.h"
#include "log.h"
#include "service_impl.h"
#include "tzwin.h"

void service_engine_settings(const struct config *c, struct engine_settings *es)
{
	es->silence_after_ms = c->timing.silence_after_ms;
	es->unmonitored_after_ms = c->timing.unmonitored_after_ms;
	es->street_after_ms = c->escalation.street_after_ms;
	es->district_after_ms = c->escalation.district_after_ms;
	es->stats_interval_ms = c->timing.stats_interval_ms;
	es->battery_low = c->timing.battery_low;
	es->reminder_after_ms = c->escalation.reminder_after_ms;
	/* Daily permits read the local time of day: the zone is the process's
	 * (set here, at start and on SIGHUP, only when it changes). */
	const char *tz = getenv("TZ");
	const char *want = strcmp(c->timing.timezone, "UTC") == 0 ? "UTC0" : c->timing.timezone;
	char tzerr[256];
	if ((!tz || strcmp(tz, want) != 0) && tzwin_use(c->timing.timezone, tzerr) < 0)
		log_error("timing.timezone: %s; daily permits keep the previous zone", tzerr);
	es->n_models = 0;
	for (int i = 0; i < c->n_models && i < ENGINE_MODELS_MAX; i++) {
		struct engine_model *m = &es->models[es->n_models++];
		snprintf(m->name, sizeof(m->name), "%s", c->models[i].name);
		m->silence_after_ms = c->models[i].silence_after_ms;
		m->battery_low = c->models[i].battery_low;
	}
}

void service_publish_volatile(struct service *s, const char *topic, const char *payload, int retained)
{
	if (s->conn != CONN_READY && s->conn != CONN_SUBSCRIBING)
		return; /* nobody can hear it now; stats and rejections are not worth keeping */
	if (outq_push(&s->outq, 0, 1, topic, payload, strlen(payload), 1, retained, NULL, 0) < 0)
		log_error("out of memory queueing %s", topic);
}

void service_reject(struct service *s, const char *topic, const char *reason, const char *detail, int64_t at_ms)
{
	service_log_rejected(s, topic, reason, detail);
	char *p = codec_encode_rejected(topic, reason, detail, at_ms);
	if (!p)
		return;
	char t[CONFIG_STR_MAX + 32];
	snprintf(t, sizeof(t), "%s/bridge/rejected", s->cfg.mqtt.topic_root);
	service_publish_volatile(s, t, p, 0);
	free(p);
}


/* To the unit the alert reached at this level (a household may have moved since). */
static int alert_topic(struct service *s, const struct alert_msg *m, char *t, size_t n)
{
	const char *unit = m->alert.unit_id[m->to_level];
	if (!unit[0]) {
		if (!m->household)
			return -1;
		unit = sb_household_unit(m->household, m->to_level)->id;
	}
	snprintf(t, n, "%s/alert/%s/%s", s->cfg.mqtt.topic_root, sb_level_name(m->to_level), unit);
	return 0;
}

/* Encodes one publishing action; NULL payload means it is not published.
 * *since_ms > 0 marks a household state: derived from the roster, so it needs
 * no outbox row (see service_recover_states). */
static char *encode(struct service *s, const struct action *a, char *topic, size_t n, int *retained, int *durable,
		    int64_t *since_ms)
{
	const char *root = s->cfg.mqtt.topic_root;
	*retained = 0;
	*durable = 1;
	*since_ms = 0;
	switch (a->kind) {
	case ACT_PUB_ALERT:
		if (alert_topic(s, &a->u.alert_msg, topic, n) < 0)
			return NULL;
		return codec_encode_alert(&a->u.alert_msg);
	case ACT_PUB_STATE:
		snprintf(topic, n, "%s/state/household/%s", root, a->u.household->id);
		*retained = 1;
		*since_ms = s->recover_since ? s->recover_since : a->u.household->changed_ms;
		return codec_encode_state(a->u.household, a->u.household->changed_ms);
	case ACT_PUB_CLEAR_STATE:
		snprintf(topic, n, "%s/state/household/%s", root, a->u.household->id);
		*retained = 1;
		*since_ms = s->recover_since ? s->recover_since : a->u.household->changed_ms;
		return calloc(1, 1);
	case ACT_PUB_SEAL:
		/* Like a household state: derived, retained, no outbox row (see service_states.c). */
		snprintf(topic, n, "%s/state/seal/%s", root, a->u.seal.device_id);
		*retained = 1;
		*since_ms = s->recover_since ? s->recover_since : a->u.seal.at_ms;
		return codec_encode_seal(&a->u.seal);
	case ACT_PUB_STATS:
		snprintf(topic, n, "%s/stats/%s/%s", root, sb_level_name(a->u.stats.unit->level), a->u.stats.unit->id);
		*retained = 1;
		*durable = 0;
		return codec_encode_stats(&a->u.stats);
	default:
		return NULL;
	}
}

const char *service_status_error(const struct service *s)
{
	if (s->store_error[0])
		return s->store_error;
	if (s->publish_error[0])
		return s->publish_error;
	return s->ckpt_error[0] ? s->ckpt_error : NULL;
}

static void store_failed(struct service *s, const char *what)
{
	if (!s->store_fault)
		log_error("store: %s failed: %s; alerting goes on from memory, saves are retried", what,
			  store_errmsg(s->store));
	s->store_fault = 1;
	snprintf(s->store_error, sizeof(s->store_error), "store: %s", store_errmsg(s->store));
}

static int is_save(enum action_kind k)
{
	return k == ACT_SAVE_HOUSEHOLD || k == ACT_SAVE_DEVICE || k == ACT_SAVE_ALERT || k == ACT_SAVE_COUNTER ||
	       k == ACT_AUDIT || k == ACT_SAVE_SEEN || k == ACT_SAVE_SEAL || k == ACT_SAVE_SEAL_LINK ||
	       k == ACT_SAVE_PERMIT;
}

static size_t keep_unsaved_kind_count(const struct actions *acts)
{
	size_t n = 0;
	for (size_t i = 0; i < acts->n; i++)
		n += is_save(acts->v[i].kind);
	return n;
}

static int keep_unsaved(struct service *s, const struct actions *acts)
{
	size_t want = 0;
	for (size_t i = 0; i < acts->n; i++)
		want += is_save(acts->v[i].kind) && acts->v[i].kind != ACT_SAVE_SEEN;
	if (!service_keep_room(s, want))
		return 0; /* counted and logged there */
	for (size_t i = 0; i < acts->n; i++) {
		enum action_kind k = acts->v[i].kind;
		if (!is_save(k) || k == ACT_SAVE_SEEN)
			continue;
		struct actions *u = &s->unsaved;
		if (u->n == u->cap) {
			size_t ncap = u->cap ? u->cap * 2 : 64;
			struct action *nv = realloc(u->v, ncap * sizeof(*nv));
			if (!nv)
				return -1;
			u->v = nv;
			u->cap = ncap;
		}
		/* Households and devices live as long as the engine: a pointer saves their latest state. */
		u->v[u->n++] = acts->v[i];
	}
	return 0;
}

static int write_actions(struct service *s, const struct actions *acts)
{
	for (size_t i = 0; i < acts->n; i++)
		if (store_apply(s->store, &acts->v[i]) < 0)
			return -1;
	return 0;
}

struct outgoing {
	char topic[SB_TOPIC_MAX + 128];
	char *payload;
	int retained, durable;
	int64_t since_ms; /* > 0: a household state (no outbox row) */
	const void *corr;
	size_t corr_len;
	int corr_owned; /* corr is a copy of ours (a message held for a group commit) */
	int64_t id;
};

/* Puts one message an input caused on its queue; ok: its outbox row (if any) is committed. */
static void push_out(struct service *s, struct outgoing *o, int ok)
{
	if (!o->payload)
		return;
	if (!o->durable)
		service_publish_volatile(s, o->topic, o->payload, o->retained);
	else if (o->since_ms) {
		if (outq_push_latest(&s->stateq, o->since_ms, o->topic, o->payload, strlen(o->payload), o->retained) <
		    0)
			log_error("out of memory queueing %s: message lost", o->topic);
	} else if (outq_push(&s->outq, ok ? o->id : 0, 0, o->topic, o->payload, strlen(o->payload), 1, o->retained,
			     o->corr, o->corr_len) < 0) {
		log_error("out of memory queueing %s: message lost", o->topic);
	}
	free(o->payload);
	o->payload = NULL;
	if (o->corr_owned)
		free((void *)o->corr);
	o->corr = NULL;
	o->corr_owned = 0;
}

/* Commands that came together share one transaction (see service_apply_command):
 * most a group holds before the receive thread commits it itself. */
#define GROUP_MAX 128

static int group_hold(struct service *s, struct outgoing *out, size_t n, const struct actions *acts)
{
	if (s->grp_nout + n > s->grp_capout) {
		size_t cap = s->grp_capout ? s->grp_capout * 2 : 256;
		while (cap < s->grp_nout + n)
			cap *= 2;
		struct outgoing *v = realloc(s->grp_out, cap * sizeof(*v));
		if (!v)
			return -1;
		s->grp_out = v;
		s->grp_capout = cap;
	}
	struct actions *g = &s->grp_acts;
	for (size_t i = 0; i < acts->n; i++) {
		if (!is_save(acts->v[i].kind))
			continue;
		if (g->n == g->cap) {
			size_t cap = g->cap ? g->cap * 2 : 256;
			struct action *v = realloc(g->v, cap * sizeof(*v));
			if (!v)
				return -1;
			g->v = v;
			g->cap = cap;
		}
		g->v[g->n++] = acts->v[i];
	}
	/* Last: from here on the group owns these messages. */
	memcpy(s->grp_out + s->grp_nout, out, n * sizeof(*out));
	s->grp_nout += n;
	return 0;
}

/* The open transaction failed: what it held is kept for the retry, and its
 * messages go out from memory, as for a single input. */
static void group_failed(struct service *s)
{
	if (!s->store_fault) {
		store_failed(s, "write");
		store_rollback(s->store);
	}
	if (keep_unsaved(s, &s->grp_acts) < 0)
		log_error("out of memory keeping unsaved changes: the store will miss some");
	for (size_t i = 0; i < s->grp_nout; i++)
		push_out(s, &s->grp_out[i], 0);
	s->grp_nout = s->grp_n = 0;
	s->grp_open = 0;
	actions_clear(&s->grp_acts);
}

void service_group_commit(struct service *s)
{
	if (!s->grp_open)
		return;
	if (store_commit(s->store) < 0) {
		group_failed(s);
		return;
	}
	for (size_t i = 0; i < s->grp_nout; i++)
		push_out(s, &s->grp_out[i], 1);
	s->grp_nout = s->grp_n = 0;
	s->grp_open = 0;
	actions_clear(&s->grp_acts);
}

void service_group_free(struct service *s)
{
	for (size_t i = 0; i < s->grp_nout; i++) {
		free(s->grp_out[i].payload);
		if (s->grp_out[i].corr_owned)
			free((void *)s->grp_out[i].corr);
	}
	free(s->grp_out);
	actions_free(&s->grp_acts);
}

/* Everything an input caused, in one transaction: state rows, audit rows and
 * the outbox rows of its messages. If the store fails, the messages are still
 * published from memory, the saves wait in s->unsaved and the fault is reported.
 * groupable: a command, whose transaction may stay open for the commands that
 * follow (its messages wait for the commit); anything else commits it. */
static void apply(struct service *s, const char *reply_topic, const char *reply, const void *corr,
		  size_t corr_len, int groupable)
{
	struct actions *acts = &s->actions;
	if (acts->oom)
		log_error("out of memory in the engine: some effects of this input are lost");
	size_t cap = acts->n + 1, n = 0;
	struct outgoing *out = calloc(cap, sizeof(*out));
	if (!out) {
		log_error("out of memory applying an input: its messages are lost");
		actions_clear(acts);
		return;
	}
	for (size_t i = 0; i < acts->n; i++) {
		struct outgoing *o = &out[n];
		o->payload = encode(s, &acts->v[i], o->topic, sizeof(o->topic), &o->retained, &o->durable,
				    &o->since_ms);
		if (o->payload)
			n++;
	}
	if (reply && reply_topic) {
		struct outgoing *o = &out[n++];
		snprintf(o->topic, sizeof(o->topic), "%s", reply_topic);
		o->payload = strdup(reply);
		o->durable = 1;
		o->corr = corr;
		o->corr_len = corr_len;
	}
	/* While earlier saves wait, newer ones queue behind them so that no older
	 * copy can overwrite a newer one later. */
	/* A transaction only when there is something to write: a household state
	 * made again after a crash has no row. */
	int need = keep_unsaved_kind_count(acts) > 0;
	for (size_t i = 0; !need && i < n; i++)
		need = out[i].durable && out[i].payload && !out[i].since_ms;
	int ok = 1;
	if (need) {
		ok = !s->store_fault && (s->grp_open || store_begin(s->store) == 0);
		if (ok)
			s->grp_open = 1;
		if (ok)
			ok = write_actions(s, acts) == 0;
		for (size_t i = 0; ok && i < n; i++)
			if (out[i].durable && out[i].payload && !out[i].since_ms)
				ok = store_outbox_add(s->store, out[i].topic, out[i].payload, strlen(out[i].payload),
						      1, out[i].retained, out[i].corr, out[i].corr_len,
						      &out[i].id) == 0;
	}
	/* The correlation data points into the input: a held reply keeps its own copy. */
	if (ok && s->grp_open && groupable)
		for (size_t i = 0; ok && i < n; i++)
			if (out[i].corr_len) {
				void *c = malloc(out[i].corr_len);
				ok = c != NULL;
				if (c)
					memcpy(c, out[i].corr, out[i].corr_len);
				out[i].corr = c;
				out[i].corr_owned = 1;
			}
	if (ok && s->grp_open && group_hold(s, out, n, acts) < 0) {
		log_error("out of memory holding messages for a commit");
		ok = 0;
	}
	if (!ok) {
		if (s->grp_open) {
			group_failed(s);
		} else if (need && !s->store_fault) {
			store_failed(s, "write");
			store_rollback(s->store);
		}
		if (keep_unsaved(s, acts) < 0)
			log_error("out of memory keeping unsaved changes: the store will miss some");
	}
	if (!s->grp_open || !ok) {
		for (size_t i = 0; i < n; i++)
			push_out(s, &out[i], ok);
	} else if (groupable && ++s->grp_n < GROUP_MAX) {
		/* The main loop commits it as soon as it gets the lock: under load,
		 * the commands that came meanwhile go with it. */
		if (s->grp_n == 1)
			service_wake(s);
	} else {
		service_group_commit(s);
	}
	free(out);
	actions_clear(acts);
	service_ids_top_up(s);
}

void service_apply(struct service *s, const char *reply_topic, const char *reply, const void *corr, size_t corr_len)
{
	apply(s, reply_topic, reply, corr, corr_len, 0);
}

/* quiet_unknown: a vendor network carries many devices that are no seals. */
static void apply_report(struct service *s, const struct transport_msg *m, const char *device_id,
			 enum sb_source src, const char *gateway_id, const struct report *r, struct sb_now now,
			 int quiet_unknown)
{
	enum report_result rr = engine_report_from(s->engine, device_id, src, gateway_id, r, m->retained, now,
						   &s->actions);
	switch (rr) {
	case REPORT_WRONG_SOURCE:
		service_reject(s, m->topic, "wrong_source", "this seal speaks through another source", now.wall_ms);
		return;
	case REPORT_RESTARTED:
		log_info("%s: seal %s restarted its seq at %lld; accepted", m->topic, device_id, (long long)r->seq);
		break;
	case REPORT_UNKNOWN_DEVICE:
		if (quiet_unknown)
			log_debug("%s: %s is not a fitted seal", m->topic, device_id);
		else if (service_retained_rejected_before(s, m->topic, m->payload, m->len, m->retained))
			log_debug("%s: retained report of %s (not fitted) delivered again; rejected before", m->topic,
				  device_id);
		else
			service_reject(s, m->topic, "unknown_device", "no seal with this id is known (register or install it)", now.wall_ms);
		return;
	case REPORT_DUPLICATE:
	case REPORT_STALE_RETAINED:
		log_debug("%s: %s ignored", m->topic, rr == REPORT_DUPLICATE ? "duplicate" : "retained replay");
		return;
	case REPORT_APPLIED:
		break;
	}
	/* A pure heartbeat produces no action and costs no commit. */
	if (s->actions.n)
		service_apply(s, NULL, NULL, NULL, 0);
}

static void on_vendor(struct service *s, const struct transport_msg *m, struct sb_now now)
{
	struct vendor_report vr[VENDOR_REPORTS_MAX];
	char err[CODEC_ERR_MAX];
	int n = vendor_decode_all(&s->vendors, m->topic, m->payload, m->len, vr, VENDOR_REPORTS_MAX, err);
	if (n < 0) {
		service_reject(s, m->topic, "bad_request", err, now.wall_ms);
		return;
	}
	if (n == 0) {
		/* Our subscriptions bring only our topics; this one carries nothing for us (e.g. /availability). */
		log_debug("%s: nothing for sealbridge", m->topic);
		return;
	}
	for (int i = 0; i < n && i < VENDOR_REPORTS_MAX; i++) {
		if (vr[i].gateway_status) {
			/* A retained status is the gateway's current one: it counts as it is. */
			engine_gateway_status(s->engine, vr[i].gateway_id, vr[i].gateway_status > 0, now, &s->actions);
			log_info("gateway %s: %s", vr[i].gateway_id, vr[i].gateway_status > 0 ? "online" : "offline");
			if (s->actions.n)
				service_apply(s, NULL, NULL, NULL, 0);
			continue;
		}
		apply_report(s, m, vr[i].device_id, vr[i].source, vr[i].gateway_id[0] ? vr[i].gateway_id : NULL,
			     &vr[i].r, now, 1);
	}
}

static void on_report(struct service *s, const struct transport_msg *m, const char *device_id, struct sb_now now)
{
	if (!sb_id_valid(device_id)) {
		service_reject(s, m->topic, "bad_topic", "invalid device id in topic", now.wall_ms);
		return;
	}
	if (m->len > SB_REPORT_MAX) {
		char d[96];
		snprintf(d, sizeof(d), "payload is %zu bytes, limit %d", m->len, SB_REPORT_MAX);
		service_reject(s, m->topic, "too_large", d, now.wall_ms);
		return;
	}
	struct report r;
	char err[CODEC_ERR_MAX];
	if (codec_decode_report(m->payload, m->len, &r, err) < 0) {
		service_reject(s, m->topic, "bad_request", err, now.wall_ms);
		return;
	}
	apply_report(s, m, device_id, SB_SRC_NATIVE, NULL, &r, now, 0);
}

/* The reply goes to reply_to, else to the v5 response topic with its correlation data. */
static void answer(struct service *s, const struct transport_msg *m, const struct command *c, const char *reply)
{
	const char *to = service_reply_topic(s, m, c);
	const void *corr = c->reply_to_given ? NULL : m->corr;
	size_t corr_len = c->reply_to_given ? 0 : m->corr_len;
	if (!to && !s->actions.n)
		return;
	/* A command's reply waits for its commit, but its PUBACK need not: a
	 * command lost in a crash before the commit was never answered, and the
	 * platform sends it again. So commands that come together share one
	 * transaction; a report or a timer that follows commits it first. */
	apply(s, to, reply, corr, corr_len, 1);
}

static void on_command(struct service *s, const struct transport_msg *m, const char *op_name, struct sb_now now)
{
	struct command c;
	char err[CODEC_ERR_MAX];
	enum sb_op op;
	const char *code = NULL;
	memset(&c, 0, sizeof(c));
	if (sb_op_parse(op_name, &op) < 0) {
		code = "unknown_op";
		snprintf(err, sizeof(err), "unknown op '%.64s'", op_name);
		char ignored[CODEC_ERR_MAX];
		/* Only for request_id and reply_to, so that the error can be answered. */
		if (m->len <= SB_COMMAND_MAX)
			codec_decode_command(SB_OP_RELEASE, m->payload, m->len, &c, ignored);
	} else if (m->len > SB_COMMAND_MAX) {
		code = "too_large";
		snprintf(err, sizeof(err), "payload is %zu bytes, limit %d", m->len, SB_COMMAND_MAX);
	} else if (codec_decode_command(op, m->payload, m->len, &c, err) < 0) {
		code = "bad_request";
	}
	if (code) {
		service_reject(s, m->topic, code, err, now.wall_ms);
		char *reply = codec_encode_error_reply(c.request_id, op_name, code, err);
		if (reply)
			answer(s, m, &c, reply);
		free(reply);
		return;
	}
	struct cmd_result res;
	engine_command(s->engine, &c, now, &res, &s->actions);
	if (!res.ok)
		service_reject(s, m->topic, res.error, res.message, now.wall_ms);
	else
		log_info("%s ok%s", m->topic, res.changed ? "" : " (no change)");
	char *reply = codec_encode_reply(&c, op, &res);
	answer(s, m, &c, reply);
	free(reply);
}

void service_on_message(void *arg, const struct transport_msg *m)
{
	struct service *s = arg;
	struct sb_now now = clock_now();
	size_t dl = strlen(s->topic_prefix_dev), cl = strlen(s->topic_prefix_cmd);
	pthread_mutex_lock(&s->mu);
	s->rx_active = 1;
	s->rx_thread = pthread_self();
	s->rx_thread_known = 1;
	if (strncmp(m->topic, s->topic_prefix_dev, dl) == 0) {
		const char *id = m->topic + dl;
		const char *slash = strchr(id, '/');
		char dev[SB_ID_MAX + 2];
		size_t n = slash ? (size_t)(slash - id) : 0;
		if (!slash || strcmp(slash, "/report") != 0 || n == 0 || n > SB_ID_MAX) {
			service_reject(s, m->topic, "bad_topic", "expected <root>/dev/<device_id>/report", now.wall_ms);
		} else {
			memcpy(dev, id, n);
			dev[n] = '\0';
			on_report(s, m, dev, now);
		}
	} else if (strncmp(m->topic, s->topic_prefix_cmd, cl) == 0 && !strchr(m->topic + cl, '/')) {
		on_command(s, m, m->topic + cl, now);
	} else {
		on_vendor(s, m, now);
	}
	/* What this input caused goes out from here, before the PUBACK of the input. */
	int mine = service_collect(s, &s->rx_batch, SERVICE_RX_BATCH_MAX, now.mono_ms);
	pthread_mutex_unlock(&s->mu);
	if (mine)
		service_send(s, &s->rx_batch);
	pthread_mutex_lock(&s->mu);
	s->rx_active = 0;
	/* Left over (a full batch, or the main loop queued more meanwhile and
	 * left it to us): the main loop sends it. A full in-flight window is
	 * freed by a PUBACK, which wakes the main loop anyway. */
	int wake = !s->sending && service_sendable(s);
	pthread_mutex_unlock(&s->mu);
	if (wake)
		service_wake(s);
}
