/* The field-operations data survives a restart: seal links (source, gateway,
 * model, seq at fitting), permits with an id (area, daily), open gateway
 * alerts, resolutions of the last 24 h and the units an alert reached. */
#include "check.h"
#include "engine.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct engine_settings set;
static struct sb_now now = {1000000, 1795924800000LL};

static void apply(struct store *s, struct actions *a)
{
	CHECK(!a->oom);
	CHECK(store_begin(s) == 0);
	for (size_t i = 0; i < a->n; i++) {
		int rc = store_apply(s, &a->v[i]);
		if (rc != 0)
			fprintf(stderr, "store_apply: %s\n", store_errmsg(s));
		CHECK(rc == 0);
	}
	CHECK(store_commit(s) == 0);
	actions_clear(a);
}

static struct command cmd(enum sb_op op)
{
	struct command c;
	memset(&c, 0, sizeof c);
	c.op = op;
	c.persons = -1;
	return c;
}

static void run(struct engine *e, struct store *s, const struct command *c, struct cmd_result *r, struct actions *a)
{
	engine_command(e, c, now, r, a);
	if (!r->ok)
		fprintf(stderr, "%s: %s %s\n", sb_op_name(c->op), r->error, r->message);
	CHECK(r->ok);
	apply(s, a);
}

int main(void)
{
	char dir[] = "/tmp/sb-store-field-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char path[256];
	snprintf(path, sizeof path, "%s/t.db", dir);
	set.silence_after_ms = 3600000;
	set.unmonitored_after_ms = 3600000;
	set.street_after_ms = 600000;
	set.district_after_ms = 900000;
	set.stats_interval_ms = 60000;
	set.battery_low = 20;
	snprintf(set.models[0].name, sizeof set.models[0].name, "ds100");
	set.models[0].silence_after_ms = 120000;
	set.models[0].battery_low = 30;
	set.n_models = 1;

	struct store *s;
	char err[256];
	CHECK(store_open(path, &s, err) == 0);
	struct engine *e = engine_new(&set, store_instance(s));
	CHECK(store_load(s, e) == 0);
	engine_loaded(e, now);
	engine_set_connected(e, 1, now);
	struct actions a;
	actions_init(&a);
	struct cmd_result r;
	const char *hh[] = {"h1", "h2"};
	for (int i = 0; i < 2; i++) {
		struct command c = cmd(SB_OP_ADMIT);
		snprintf(c.household_id, sizeof c.household_id, "%s", hh[i]);
		strcpy(c.unit_id[SB_LEVEL_COMMUNITY], i ? "c2" : "c1");
		strcpy(c.unit_id[SB_LEVEL_STREET], "s1");
		strcpy(c.unit_id[SB_LEVEL_DISTRICT], "d1");
		c.has_end = 1;
		c.end_ms = now.wall_ms + 86400000LL * 14;
		run(e, s, &c, &r, &a);
		c = cmd(SB_OP_INSTALL);
		snprintf(c.household_id, sizeof c.household_id, "%s", hh[i]);
		snprintf(c.device_id, sizeof c.device_id, "seal-%d", i);
		c.source = SB_SRC_ZIGBEE2MQTT;
		strcpy(c.gateway_id, "coord-1");
		strcpy(c.model, "ds100");
		run(e, s, &c, &r, &a);
	}
	struct command p = cmd(SB_OP_PERMIT);
	strcpy(p.unit_id[SB_LEVEL_STREET], "s1");
	p.area = 1 + SB_LEVEL_STREET;
	p.has_until = 1;
	p.until_ms = now.wall_ms + 86400000LL * 7;
	p.has_daily = 1;
	p.daily_from = 23 * 60 + 30;
	p.daily_until = 15;
	snprintf(p.reason, sizeof p.reason, "rubbish");
	run(e, s, &p, &r, &a);
	char pid[SB_ID_MAX + 1];
	snprintf(pid, sizeof pid, "%s", r.permit_id);
	engine_gateway_status(e, "coord-1", 0, now, &a);
	apply(s, &a);
	const struct gateway *g = engine_gateway(e, "coord-1");
	CHECK(g && g->alert);
	char gid[SB_ID_MAX + 1];
	snprintf(gid, sizeof gid, "%s", g->alert->id);
	CHECK(engine_alert(e, gid)->level == SB_LEVEL_STREET);
	engine_free(e);
	store_close(s);

	/* again, from the file */
	now.mono_ms += 5000;
	now.wall_ms += 5000;
	CHECK(store_open(path, &s, err) == 0);
	e = engine_new(&set, store_instance(s));
	int rc = store_load(s, e);
	if (rc)
		fprintf(stderr, "store_load: %s\n", store_errmsg(s));
	CHECK(rc == 0);
	engine_loaded(e, now);
	const struct device *d = engine_device(e, "seal-1");
	CHECK(d && d->source == SB_SRC_ZIGBEE2MQTT && d->gateway && strcmp(d->gateway->id, "coord-1") == 0);
	CHECK(d->model && strcmp(d->model, "ds100") == 0);
	g = engine_gateway(e, "coord-1");
	CHECK(g && g->offline && g->alert && strcmp(g->alert->id, gid) == 0);
	CHECK(g->alert->households == 2 && strcmp(g->alert->unit_id[SB_LEVEL_STREET], "s1") == 0);
	CHECK(g->ndevs == 2);
	/* the permit is back: revoking it works once */
	struct command rv = cmd(SB_OP_REVOKE);
	strcpy(rv.permit_id, pid);
	run(e, s, &rv, &r, &a);
	engine_command(e, &rv, now, &r, &a);
	CHECK(!r.ok && strcmp(r.error, "unknown_permit") == 0);
	actions_clear(&a);
	/* the gateway returns: its loaded alert clears */
	engine_gateway_status(e, "coord-1", 1, now, &a);
	int cleared = 0;
	for (size_t i = 0; i < a.n; i++)
		cleared += a.v[i].kind == ACT_PUB_ALERT && a.v[i].u.alert_msg.alert.state == SB_AST_CLEARED;
	CHECK(cleared == 1); /* raised at street and never escalated: one level reached */
	apply(s, &a);
	engine_free(e);
	store_close(s);
	actions_free(&a);
	unlink(path);
	char side[300];
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
	rmdir(dir);
	DONE();
}
