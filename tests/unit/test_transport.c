/* transport against a private Mosquitto on free loopback ports. Two listeners:
 * the client under test uses one, an observer the other, so cutting the first
 * port's connections (ss -K) leaves the observer standing to see the will. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "transport.h"

#define WAIT_MS 10000
#define MAX_MSGS 64
#define MAX_PUBS 64

struct got_msg {
	char topic[128];
	char payload[256];
	size_t len;
	int qos, retained;
	char rt[128];
	int has_rt;
	unsigned char corr[64];
	size_t corr_len;
	int has_corr;
};

struct got_pub {
	uint64_t token;
	int ok, rc;
};

struct rec {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int connected, lost, sub_ok, sub_fail;
	char cause[256];
	struct got_msg msgs[MAX_MSGS];
	int nmsgs;
	struct got_pub pubs[MAX_PUBS];
	int npubs;
};

static char tmpdir[] = "/tmp/sb-transport-XXXXXX";
static int port_a, port_b;
static pid_t broker = -1;

/* ---- recorder: callbacks copy what they see under a mutex ---- */

static void rec_init(struct rec *r)
{
	memset(r, 0, sizeof *r);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
}

static void rec_destroy(struct rec *r)
{
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
}

static void cb_message(void *arg, const struct transport_msg *m)
{
	struct rec *r = arg;
	struct got_msg *g;

	pthread_mutex_lock(&r->mu);
	if (r->nmsgs < MAX_MSGS && strlen(m->topic) < sizeof g->topic && m->len < sizeof g->payload) {
		g = &r->msgs[r->nmsgs++];
		memset(g, 0, sizeof *g);
		strcpy(g->topic, m->topic);
		memcpy(g->payload, m->payload, m->len + 1); /* + the promised NUL */
		g->len = m->len;
		g->qos = m->qos;
		g->retained = m->retained;
		if (m->response_topic && strlen(m->response_topic) < sizeof g->rt) {
			strcpy(g->rt, m->response_topic);
			g->has_rt = 1;
		}
		if (m->corr && m->corr_len <= sizeof g->corr) {
			memcpy(g->corr, m->corr, m->corr_len);
			g->corr_len = m->corr_len;
			g->has_corr = 1;
		}
	}
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static void cb_connected(void *arg)
{
	struct rec *r = arg;

	pthread_mutex_lock(&r->mu);
	r->connected++;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static void cb_lost(void *arg, const char *cause)
{
	struct rec *r = arg;

	pthread_mutex_lock(&r->mu);
	r->lost++;
	snprintf(r->cause, sizeof r->cause, "%s", cause ? cause : "");
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static void cb_subscribed(void *arg, int ok)
{
	struct rec *r = arg;

	pthread_mutex_lock(&r->mu);
	if (ok)
		r->sub_ok++;
	else
		r->sub_fail++;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static void cb_published(void *arg, uint64_t token, int ok, int rc, const char *why)
{
	struct rec *r = arg;

	(void)why;
	pthread_mutex_lock(&r->mu);
	if (r->npubs < MAX_PUBS)
		r->pubs[r->npubs++] = (struct got_pub){.token = token, .ok = ok, .rc = rc};
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static struct transport_callbacks callbacks(struct rec *r)
{
	return (struct transport_callbacks){.on_message = cb_message,
					    .on_connected = cb_connected,
					    .on_lost = cb_lost,
					    .on_subscribed = cb_subscribed,
					    .on_published = cb_published,
					    .arg = r};
}

/* ---- bounded waits ---- */

enum what { W_CONNECTED, W_LOST, W_SUB_OK, W_MSG, W_PUB };

struct want {
	enum what what;
	int count;         /* W_CONNECTED, W_LOST, W_SUB_OK: at least this many */
	const char *topic; /* W_MSG: a message on topic ... */
	const char *payload; /* ... and, when set, with this payload */
	uint64_t token;    /* W_PUB */
	int found;         /* out: index into msgs/pubs */
};

static int satisfied(struct rec *r, struct want *w)
{
	switch (w->what) {
	case W_CONNECTED:
		return r->connected >= w->count;
	case W_LOST:
		return r->lost >= w->count;
	case W_SUB_OK:
		return r->sub_ok + r->sub_fail >= w->count;
	case W_MSG:
		for (int i = 0; i < r->nmsgs; i++)
			if (strcmp(r->msgs[i].topic, w->topic) == 0 &&
			    (!w->payload || strcmp(r->msgs[i].payload, w->payload) == 0)) {
				w->found = i;
				return 1;
			}
		return 0;
	case W_PUB:
		for (int i = 0; i < r->npubs; i++)
			if (r->pubs[i].token == w->token) {
				w->found = i;
				return 1;
			}
		return 0;
	}
	return 0;
}

/* 1 when the wanted event came within WAIT_MS; the callers CHECK it, so a
 * missing event fails the test with its line instead of hanging. */
static int wait_for(struct rec *r, struct want *w)
{
	struct timespec dl;
	int ok, rc = 0;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&r->mu);
	while (!(ok = satisfied(r, w)) && rc == 0)
		rc = pthread_cond_timedwait(&r->cv, &r->mu, &dl);
	if (!ok)
		ok = satisfied(r, w);
	pthread_mutex_unlock(&r->mu);
	if (!ok)
		fprintf(stderr, "timed out after %d ms waiting for event %d (%s)\n", WAIT_MS, (int)w->what,
			w->topic ? w->topic : "");
	return ok;
}

static int count_of(struct rec *r, const int *field)
{
	int v;

	pthread_mutex_lock(&r->mu);
	v = *field;
	pthread_mutex_unlock(&r->mu);
	return v;
}

/* ---- private broker ---- */

static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	CHECK(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static int port_open(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	if (fd < 0)
		return 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return ok;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	REQUIRE(f != NULL);
	CHECK(fputs(text, f) >= 0);
	CHECK(fclose(f) == 0);
}

static const char *mosquitto_path(void)
{
	static const char *const dirs[] = {"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto",
					   "/usr/bin/mosquitto", "/usr/local/bin/mosquitto"};

	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
		if (access(dirs[i], X_OK) == 0)
			return dirs[i];
	return "mosquitto"; /* execvp searches PATH */
}

static void broker_stop(void);

static void broker_start(void)
{
	char conf[512], acl[512], text[1024];
	struct timespec step = {0, 20 * 1000000L};

	CHECK(mkdtemp(tmpdir) != NULL);
	atexit(broker_stop); /* a failed CHECK exits: leave no broker behind */
	/* Mosquitto started as root reads the ACL after dropping to its own user. */
	CHECK(chmod(tmpdir, 0755) == 0);
	snprintf(acl, sizeof acl, "%s/acl", tmpdir);
	snprintf(conf, sizeof conf, "%s/mosquitto.conf", tmpdir);
	/* The deny line comes first so no broader grant can shadow it. */
	write_file(acl, "topic deny t/denied\ntopic readwrite t/#\n");
	port_a = free_port();
	do
		port_b = free_port();
	while (port_b == port_a);
	snprintf(text, sizeof text,
		 "listener %d 127.0.0.1\nlistener %d 127.0.0.1\nallow_anonymous true\n"
		 "persistence false\nacl_file %s\nlog_dest stderr\nlog_type error\n",
		 port_a, port_b, acl);
	write_file(conf, text);

	broker = fork();
	CHECK(broker >= 0);
	if (broker == 0) {
		const char *bin = mosquitto_path();
		int devnull = open("/dev/null", O_WRONLY);

		/* Dies with us even if we crash, and holds no pipe of ours open. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (devnull >= 0)
			dup2(devnull, STDOUT_FILENO);
		execlp(bin, bin, "-c", conf, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < WAIT_MS / 20; i++) {
		if (port_open(port_a) && port_open(port_b))
			return;
		if (waitpid(broker, NULL, WNOHANG) == broker) {
			broker = -1;
			fprintf(stderr, "mosquitto exited at start (config %s)\n", conf);
			exit(1);
		}
		nanosleep(&step, NULL);
	}
	fprintf(stderr, "mosquitto did not open ports %d/%d within %d ms\n", port_a, port_b, WAIT_MS);
	exit(1);
}

static void broker_stop(void)
{
	char path[600];

	if (broker > 0) {
		kill(broker, SIGTERM);
		waitpid(broker, NULL, 0);
		broker = -1;
	}
	snprintf(path, sizeof path, "%s/acl", tmpdir);
	unlink(path);
	snprintf(path, sizeof path, "%s/mosquitto.conf", tmpdir);
	unlink(path);
	rmdir(tmpdir);
}

/* Runs a command to completion with its stdout in out (stderr discarded);
 * its exit status, or -1. */
static int run(char *const argv[], char *out, size_t outsz)
{
	int st, fds[2];
	size_t used = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(fds[1], STDOUT_FILENO);
		if (devnull >= 0)
			dup2(devnull, STDERR_FILENO);
		close(fds[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	while (outsz > 0 && (n = read(fds[0], out + used, outsz - 1 - used)) > 0)
		used += (size_t)n;
	if (outsz > 0)
		out[used] = '\0';
	close(fds[0]);
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- fixtures ---- */

static struct transport *client_new(struct rec *r, const char *id, int port, int with_will)
{
	char uri[64];
	struct transport *t = NULL;
	struct transport_callbacks cb = callbacks(r);
	struct transport_settings s = {.client_id = id,
				       .keepalive_s = 30,
				       .session_expiry_s = 60,
				       .max_inflight = 20};

	snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d", port);
	s.uri = uri; /* transport_new copies it */
	if (with_will) {
		s.will_topic = "t/status";
		s.will_payload = "{\"state\":\"offline\"}";
	}
	CHECK(transport_new(&s, &cb, &t) == 0);
	REQUIRE(t != NULL);
	return t;
}

static void connect_and_wait(struct transport *t, struct rec *r)
{
	struct want w = {.what = W_CONNECTED, .count = count_of(r, &r->connected) + 1};

	CHECK(transport_connect(t) == 0);
	CHECK(wait_for(r, &w));
	CHECK(transport_is_connected(t) == 1);
}

static void subscribe_and_wait(struct transport *t, struct rec *r, const char *filter)
{
	const char *filters[] = {filter};
	struct want w = {.what = W_SUB_OK, .count = count_of(r, &r->sub_ok) + count_of(r, &r->sub_fail) + 1};

	CHECK(transport_subscribe(t, filters, 1, 1) == 0);
	CHECK(wait_for(r, &w));
	CHECK(r->sub_fail == 0);
}

static struct got_pub publish_and_wait(struct transport *t, struct rec *r, const char *topic,
				       const void *payload, size_t len, int retained, uint64_t token)
{
	struct want w = {.what = W_PUB, .token = token};

	CHECK(transport_publish(t, topic, payload, len, 1, retained, NULL, 0, token) == 0);
	CHECK(wait_for(r, &w));
	return r->pubs[w.found];
}

/* ---- tests ---- */

static void test_rejects_bad_settings(void)
{
	struct rec r;
	struct transport *t = (struct transport *)&r; /* must be reset to NULL */
	struct transport_callbacks cb = callbacks(&r);
	struct transport_settings s = {.uri = "tcp://127.0.0.1:1", .client_id = "", .keepalive_s = 30};

	rec_init(&r);
	CHECK(transport_new(&s, &cb, &t) < 0);
	CHECK(t == NULL);
	s.client_id = "x";
	s.keepalive_s = 70000;
	CHECK(transport_new(&s, &cb, &t) < 0);
	transport_free(NULL);
	rec_destroy(&r);
}

static void test_connect_refused_reports_lost(void)
{
	struct rec r;
	struct transport *t;
	struct want w = {.what = W_LOST, .count = 1};
	int dead = free_port(); /* nothing listens there */

	rec_init(&r);
	t = client_new(&r, "t-refused", dead, 0);
	CHECK(transport_connect(t) == 0);
	CHECK(wait_for(&r, &w));
	CHECK(r.connected == 0);
	CHECK(strstr(r.cause, "connect") != NULL);
	CHECK(transport_is_connected(t) == 0);
	transport_free(t);
	rec_destroy(&r);
}

/* The main flow shares one client so each check builds on a live session. */
static void test_round_trips(void)
{
	struct rec r, o;
	struct transport *t, *obs;
	struct got_pub p;
	struct want w;
	const char bin[] = {'h', 'i', '\0', 0x7f, (char)0xff, '!'};
	const unsigned char corr[] = {0x01, 0x00, 0xfe};
	int reconnected = 0;

	rec_init(&r);
	rec_init(&o);
	t = client_new(&r, "t-main", port_a, 1);
	connect_and_wait(t, &r);

	/* A retained message published before the subscribe comes back flagged
	 * retained: the engine relies on that to spot re-delivery. */
	p = publish_and_wait(t, &r, "t/ret", "old", 3, 1, 1);
	CHECK(p.ok == 1);
	subscribe_and_wait(t, &r, "t/#");
	w = (struct want){.what = W_MSG, .topic = "t/ret"};
	CHECK(wait_for(&r, &w));
	CHECK(r.msgs[w.found].retained == 1);
	CHECK_STR(r.msgs[w.found].payload, "old");

	/* A live QoS 1 message keeps every byte (embedded NUL included) and is
	 * not flagged retained; its PUBACK reports success for our token. */
	p = publish_and_wait(t, &r, "t/a", bin, sizeof bin, 0, 42);
	CHECK(p.ok == 1);
	CHECK(p.rc == 0);
	w = (struct want){.what = W_MSG, .topic = "t/a"};
	CHECK(wait_for(&r, &w));
	CHECK(r.msgs[w.found].len == sizeof bin);
	CHECK(memcmp(r.msgs[w.found].payload, bin, sizeof bin) == 0);
	CHECK(r.msgs[w.found].payload[sizeof bin] == '\0');
	CHECK(r.msgs[w.found].retained == 0);
	CHECK(r.msgs[w.found].qos == 1);
	CHECK(r.msgs[w.found].has_rt == 0 && r.msgs[w.found].has_corr == 0);

	/* ACL-denied: Mosquitto answers PUBACK 0x87 under v5; that is a failure. */
	p = publish_and_wait(t, &r, "t/denied", "x", 1, 0, 43);
	CHECK(p.ok == 0);
	CHECK(p.rc == 0x87);

	/* A request with a response topic and correlation data, as a platform
	 * sends it; the reply we publish carries the same correlation data. */
	{
		char portstr[16];
		char *argv[] = {"mosquitto_pub", "-h", "127.0.0.1", "-p", portstr, "-V", "mqttv5", "-q", "1",
				"-i", "t-platform", "-t", "t/req", "-m", "ping", "-D", "publish",
				"response-topic", "t/reply", "-D", "publish", "correlation-data", "c-17",
				NULL};

		char out[256];

		snprintf(portstr, sizeof portstr, "%d", port_b);
		CHECK(run(argv, out, sizeof out) == 0);
		w = (struct want){.what = W_MSG, .topic = "t/req"};
		CHECK(wait_for(&r, &w));
		CHECK_STR(r.msgs[w.found].rt, "t/reply");
		CHECK(r.msgs[w.found].has_corr == 1);
		CHECK(r.msgs[w.found].corr_len == 4);
		CHECK(memcmp(r.msgs[w.found].corr, "c-17", 4) == 0);
	}
	CHECK(transport_publish(t, "t/reply", "pong", 4, 1, 0, corr, sizeof corr, 44) == 0);
	w = (struct want){.what = W_MSG, .topic = "t/reply"};
	CHECK(wait_for(&r, &w));
	CHECK_STR(r.msgs[w.found].payload, "pong");
	CHECK(r.msgs[w.found].has_corr == 1);
	CHECK(r.msgs[w.found].corr_len == sizeof corr);
	CHECK(memcmp(r.msgs[w.found].corr, corr, sizeof corr) == 0);
	w = (struct want){.what = W_PUB, .token = 44};
	CHECK(wait_for(&r, &w));
	CHECK(r.pubs[w.found].ok == 1);

	/* The will: an observer on the other listener sees "offline" once the
	 * broker loses our connection without a DISCONNECT. */
	obs = client_new(&o, "t-observer", port_b, 0);
	connect_and_wait(obs, &o);
	subscribe_and_wait(obs, &o, "t/status");
	p = publish_and_wait(t, &r, "t/status", "{\"state\":\"online\"}", 18, 1, 45);
	CHECK(p.ok == 1);
	w = (struct want){.what = W_MSG, .topic = "t/status", .payload = "{\"state\":\"online\"}"};
	CHECK(wait_for(&o, &w));
	{
		char portstr[32], out[1024], peer[32];
		char *argv[] = {"ss", "-K", "dst", "127.0.0.1", "dport", "=", portstr, NULL};
		int lost = count_of(&r, &r.lost), cut;

		snprintf(portstr, sizeof portstr, "%d", port_a);
		snprintf(peer, sizeof peer, "127.0.0.1:%d", port_a);
		/* A stopped broker sends no PUBACK, so this publish is still in
		 * flight when the link is cut: the caller must hear it failed. */
		CHECK(kill(broker, SIGSTOP) == 0);
		CHECK(transport_publish(t, "t/inflight", "x", 1, 1, 0, NULL, 0, 50) == 0);
		/* ss exits 0 even when SOCK_DESTROY is not permitted; it lists only
		 * the sockets it did close. */
		cut = run(argv, out, sizeof out) == 0 && strstr(out, peer) != NULL;
		CHECK(kill(broker, SIGCONT) == 0);
		/* A check that cannot run fails: ss -K needs root and
		 * CONFIG_INET_DIAG_DESTROY, which the test command's machines have. */
		CHECK(cut);
		if (cut) {
			w = (struct want){.what = W_LOST, .count = lost + 1};
			CHECK(wait_for(&r, &w));
			CHECK(strstr(r.cause, "lost") != NULL);
			CHECK(transport_is_connected(t) == 0);
			w = (struct want){.what = W_PUB, .token = 50};
			CHECK(wait_for(&r, &w));
			CHECK(r.pubs[w.found].ok == 0);
			w = (struct want){.what = W_MSG, .topic = "t/status",
					  .payload = "{\"state\":\"offline\"}"};
			CHECK(wait_for(&o, &w));

			/* The caller reconnects by calling transport_connect again. */
			connect_and_wait(t, &r);
			p = publish_and_wait(t, &r, "t/after", "x", 1, 0, 46);
			CHECK(p.ok == 1);
			/* Paho may retransmit token 50 in the resumed session; its late
			 * PUBACK must not produce a second report. */
			w = (struct want){.what = W_MSG, .topic = "t/after"};
			CHECK(wait_for(&r, &w));
			{
				int n50 = 0;
				pthread_mutex_lock(&r.mu);
				for (int i = 0; i < r.npubs; i++)
					n50 += r.pubs[i].token == 50;
				pthread_mutex_unlock(&r.mu);
				CHECK(n50 == 1);
			}
			reconnected = 1;
		}
	}
	/* One on_connected per successful connect, never two. */
	CHECK(count_of(&r, &r.connected) == 1 + reconnected);

	/* A clean disconnect; afterwards a publish is refused at once and no
	 * on_published will come for it. */
	CHECK(transport_disconnect(t, 5000) == 0);
	CHECK(transport_is_connected(t) == 0);
	{
		int before = count_of(&r, &r.npubs);
		CHECK(transport_publish(t, "t/a", "late", 4, 1, 0, NULL, 0, 47) < 0);
		CHECK(count_of(&r, &r.npubs) == before);
	}
	CHECK(transport_disconnect(t, 1000) == 0); /* already closed: no-op */

	transport_free(t);
	transport_free(obs);
	rec_destroy(&r);
	rec_destroy(&o);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(test_rejects_bad_settings);
	RUN(test_connect_refused_reports_lost);
	broker_start();
	RUN(test_round_trips);
	broker_stop();
	DONE();
}
