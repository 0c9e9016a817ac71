/* Integration check (and benchmark) of bridge/dqlite_client against real dqlite nodes.
 *
 * Starts three `dqlite-demo` nodes (Debian's go-dqlite package) on free loopback ports with a
 * temporary data directory and, through our client only: finds the leader, lists the group,
 * creates a table, writes every value type with bound parameters (also through prepared
 * statements) and reads them back, gets the server's errors (bad SQL, a write to a follower),
 * cross-checks with the official `dqlite` shell, then SIGKILLs the leader in the middle of a
 * run of acknowledged writes, finds the new leader (bound: 15 s) and reads every
 * acknowledged row back.
 *
 *   dqlite_cluster            the check (exit 0 = passed; dqlite-demo missing = FAILED)
 *   dqlite_cluster --bench N  replicated commit figures instead (N transactions per kind)
 *
 * Children get SIGKILL when this process dies (PR_SET_PDEATHSIG); the data directory is
 * removed at the end unless --keep is given. */
#define _XOPEN_SOURCE 700
#include "dqlite_client.h"

#include <sqlite3.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NODES 3
#define FAILOVER_BOUND_MS 15000
#define ADDR 64

static char tmpdir[] = "/tmp/sb-dqlite-XXXXXX";
static int keep_dir, dir_made;
static pid_t pids[NODES];
static char db_addr[NODES][ADDR], api_addr[NODES][ADDR];
static const char *addr_list[NODES];
static struct dqc_opts opts;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void stop_all(void)
{
	for (int i = 0; i < NODES; i++)
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
			pids[i] = 0;
		}
}

static void show_logs(void)
{
	for (int i = 0; i < NODES; i++) {
		char path[256], line[512];
		snprintf(path, sizeof(path), "%s/node%d.log", tmpdir, i + 1);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		fprintf(stderr, "---- last lines of %s\n", path);
		long n = 0;
		while (fgets(line, sizeof(line), f))
			n++;
		rewind(f);
		for (long k = 0; fgets(line, sizeof(line), f); k++)
			if (k >= n - 15)
				fputs(line, stderr);
		fclose(f);
	}
}

static void cleanup(void)
{
	stop_all();
	if (!keep_dir && dir_made)
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "FAILED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	show_logs();
	cleanup();
	exit(1);
}

#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fail(__VA_ARGS__);                                                         \
	} while (0)

static void on_signal(int sig)
{
	(void)sig;
	cleanup();
	_exit(1);
}

static int in_path(const char *prog, char *out, size_t outsz)
{
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t l = strcspn(path, ":");
		snprintf(out, outsz, "%.*s/%s", (int)l, path, prog);
		if (l && access(out, X_OK) == 0)
			return 1;
		path += l + (path[l] == ':');
	}
	return 0;
}

/* Ports the kernel hands out and nobody holds right now (kept open until all are chosen). */
static void free_ports(int *ports, int n)
{
	int fds[16];
	for (int i = 0; i < n; i++) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
		socklen_t l = sizeof(a);
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		EXPECT(fds[i] >= 0 && bind(fds[i], (struct sockaddr *)&a, sizeof(a)) == 0 &&
			   getsockname(fds[i], (struct sockaddr *)&a, &l) == 0,
		       "no free port: %s", strerror(errno));
		ports[i] = ntohs(a.sin_port);
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

static const char *demo_path;

static int thread_stopped(const char *stat_path)
{
	char buf[512];
	FILE *f = fopen(stat_path, "r");
	if (!f)
		return 1; /* the thread ended */
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *st = strrchr(buf, ')');
	return st && st[1] == ' ' && (st[2] == 'T' || st[2] == 't');
}

/* kill() returns before the stop takes effect: wait until every thread of the node shows
 * as stopped in /proc. */
static void pause_node(int k)
{
	kill(pids[k], SIGSTOP);
	int64_t deadline = now_ms() + 5000;
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pids[k]);
	for (;;) {
		int all = 1;
		DIR *d = opendir(dir);
		EXPECT(d, "%s: %s", dir, strerror(errno));
		for (struct dirent *e; all && (e = readdir(d));) {
			if (e->d_name[0] == '.')
				continue;
			char path[400];
			snprintf(path, sizeof(path), "%s/%s/stat", dir, e->d_name);
			all = thread_stopped(path);
		}
		closedir(d);
		if (all)
			return;
		EXPECT(now_ms() < deadline, "node %d did not stop", k + 1);
		sleep_ms(5);
	}
}

static void start_node(const char *demo, int i)
{
	char log[256];
	snprintf(log, sizeof(log), "%s/node%d.log", tmpdir, i + 1);
	pid_t pid = fork();
	EXPECT(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		if (i == 0)
			execl(demo, demo, "-a", api_addr[i], "-d", db_addr[i], "-D", tmpdir,
			      (char *)NULL);
		else
			execl(demo, demo, "-a", api_addr[i], "-d", db_addr[i], "-j", db_addr[0], "-D",
			      tmpdir, (char *)NULL);
		_exit(127);
	}
	pids[i] = pid;
}

static int node_of(const char *address)
{
	for (int i = 0; i < NODES; i++)
		if (strcmp(address, db_addr[i]) == 0)
			return i;
	return -1;
}

/* Connect to the leader, retrying until the deadline. */
static struct dqc_conn *leader_conn(int64_t deadline)
{
	for (;;) {
		struct dqc_conn *c;
		if (dqc_connect_leader(addr_list, NODES, &opts, &c) == 0)
			return c;
		if (now_ms() > deadline)
			return NULL;
		sleep_ms(100);
	}
}

static int all_voters(struct dqc_conn *c)
{
	struct dqc_node *nodes;
	size_t n;
	if (dqc_cluster(c, &nodes, &n) < 0)
		return 0;
	int voters = 0;
	for (size_t i = 0; i < n; i++)
		voters += nodes[i].role == DQC_VOTER;
	free(nodes);
	return n == NODES && voters == NODES;
}

/* Three nodes, all voters (the demo promotes joining nodes on its own). */
static void start_group(const char *demo)
{
	int ports[2 * NODES];
	free_ports(ports, 2 * NODES);
	for (int i = 0; i < NODES; i++) {
		snprintf(db_addr[i], ADDR, "127.0.0.1:%d", ports[i]);
		snprintf(api_addr[i], ADDR, "127.0.0.1:%d", ports[NODES + i]);
		addr_list[i] = db_addr[i];
	}
	int64_t deadline = now_ms() + 30000;
	start_node(demo, 0);
	struct dqc_conn *c = leader_conn(deadline);
	EXPECT(c, "the first node did not become leader within 30 s");
	dqc_close(c);
	for (int i = 1; i < NODES; i++)
		start_node(demo, i);
	for (;;) {
		c = leader_conn(deadline);
		EXPECT(c, "no leader while the group forms");
		int ok = all_voters(c);
		dqc_close(c);
		if (ok)
			break;
		EXPECT(now_ms() < deadline, "the group did not reach three voters within 30 s");
		sleep_ms(200);
	}
}

/* ---- the value round trip ---- */

struct row {
	int64_t id, i;
	double f;
	int s_null, b_null, n_null;
	char *s;
	size_t s_len;
	uint8_t *b;
	size_t b_len;
};

#define ROWS 8
static struct row want[ROWS];

static void make_rows(void)
{
	static char big[20000];
	static uint8_t bin[300], one_zero[1] = {0};
	for (size_t k = 0; k < sizeof(big) - 1; k++)
		big[k] = (char)('a' + k % 26);
	for (size_t k = 0; k < sizeof(bin); k++)
		bin[k] = (uint8_t)(k * 37);
	const struct row r[ROWS] = {
	    {1, 0, 0.0, 0, 0, 1, "", 0, bin, 0},
	    {2, INT64_MAX, 0.1, 0, 0, 1, "plain", 5, bin, 1},
	    {3, INT64_MIN, -1e300, 0, 0, 1, "K\xc3\xbc\x68lschrank \xe2\x9c\x93", 0, bin, 300},
	    {4, -1, 5e-324, 1, 1, 1, NULL, 0, NULL, 0},
	    {5, 42, 3.141592653589793, 0, 0, 1, "7 bytes", 7, one_zero, 1},
	    {6, 1LL << 53, -2.5e-10, 0, 0, 1, "eight b.", 8, bin, 8},
	    {7, 7, 1.0, 0, 1, 1, big, sizeof(big) - 1, NULL, 0},
	    {8, 8, 2.5, 1, 0, 1, NULL, 0, bin, 299},
	};
	memcpy(want, r, sizeof(want));
	for (int k = 0; k < ROWS; k++)
		want[k].s_len = want[k].s_null ? 0 : strlen(want[k].s);
}

/* SQL's length() counts characters: UTF-8 lead bytes */
static size_t utf8_chars(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

static void bind_row(const struct row *r, struct dqc_value v[6])
{
	v[0] = (struct dqc_value){.type = DQC_INTEGER, .i = r->id};
	v[1] = (struct dqc_value){.type = DQC_INTEGER, .i = r->i};
	v[2] = (struct dqc_value){.type = DQC_FLOAT, .f = r->f};
	v[3] = r->s_null ? (struct dqc_value){.type = DQC_NULL}
			 : (struct dqc_value){.type = DQC_TEXT, .p = r->s, .n = r->s_len};
	v[4] = r->b_null ? (struct dqc_value){.type = DQC_NULL}
			 : (struct dqc_value){.type = DQC_BLOB, .p = r->b, .n = r->b_len};
	v[5] = (struct dqc_value){.type = DQC_NULL};
}

static int count_rows(void *ctx, const struct dqc_row *row)
{
	*(int64_t *)ctx = row->values[0].i;
	return 0;
}

struct readback {
	int rows;
	int bad;
	char why[200];
};

static int check_row(void *ctx, const struct dqc_row *row)
{
	struct readback *rb = ctx;
	const struct dqc_value *v = row->values;
	int k = rb->rows++;
#define BAD(...)                                                                                   \
	do {                                                                                       \
		if (!rb->bad)                                                                      \
			snprintf(rb->why, sizeof(rb->why), __VA_ARGS__);                           \
		rb->bad = 1;                                                                       \
		return 0;                                                                          \
	} while (0)
	if (k >= ROWS || row->ncols != 6)
		BAD("unexpected row %d of %u columns", k, row->ncols);
	const struct row *w = &want[k];
	if (strcmp(row->names[0], "id") || strcmp(row->names[4], "b"))
		BAD("column names %s..%s", row->names[0], row->names[4]);
	if (v[0].type != DQC_INTEGER || v[0].i != w->id)
		BAD("row %d: id", k);
	if (v[1].type != DQC_INTEGER || v[1].i != w->i)
		BAD("row %d: i %" PRId64 " != %" PRId64, k, v[1].i, w->i);
	if (v[2].type != DQC_FLOAT || memcmp(&v[2].f, &w->f, sizeof(double)) != 0)
		BAD("row %d: f %.17g != %.17g", k, v[2].f, w->f);
	if (w->s_null ? v[3].type != DQC_NULL
		      : (v[3].type != DQC_TEXT || v[3].n != w->s_len ||
			 memcmp(v[3].p, w->s, w->s_len) != 0))
		BAD("row %d: text (type %d, %zu bytes)", k, v[3].type, v[3].n);
	if (w->b_null ? v[4].type != DQC_NULL
		      : (v[4].type != DQC_BLOB || v[4].n != w->b_len ||
			 (w->b_len && memcmp(v[4].p, w->b, w->b_len) != 0)))
		BAD("row %d: blob (type %d, %zu bytes)", k, v[4].type, v[4].n);
	if (v[5].type != DQC_NULL)
		BAD("row %d: null column has type %d", k, v[5].type);
	return 0;
#undef BAD
}

static void check_values(struct dqc_conn *c, uint32_t db)
{
	struct dqc_result res;
	int rc = dqc_exec_sql(c, db,
			      "CREATE TABLE vals (id INTEGER PRIMARY KEY, i INTEGER, f REAL, s TEXT, "
			      "b BLOB, n INTEGER)",
			      NULL, 0, &res);
	EXPECT(rc == 0, "create table: %s", dqc_errmsg(c));
	make_rows();
	/* half through EXEC_SQL, half through a prepared statement */
	uint32_t stmt;
	uint64_t np;
	rc = dqc_prepare(c, db, "INSERT INTO vals VALUES (?, ?, ?, ?, ?, ?)", &stmt, &np);
	EXPECT(rc == 0 && np == 6, "prepare: %s", dqc_errmsg(c));
	for (int k = 0; k < ROWS; k++) {
		struct dqc_value v[6];
		bind_row(&want[k], v);
		if (k % 2)
			rc = dqc_exec(c, db, stmt, v, 6, &res);
		else
			rc = dqc_exec_sql(c, db, "INSERT INTO vals VALUES (?, ?, ?, ?, ?, ?)", v, 6,
					  &res);
		EXPECT(rc == 0, "insert row %d: %s", k, dqc_errmsg(c));
		EXPECT(res.rows_affected == 1 && (int64_t)res.last_insert_id == want[k].id,
		       "insert row %d: result %" PRIu64 "/%" PRIu64, k, res.last_insert_id,
		       res.rows_affected);
	}
	EXPECT(dqc_finalize(c, db, stmt) == 0, "finalize: %s", dqc_errmsg(c));
	/* the statement is gone on the server */
	struct dqc_value v[6];
	bind_row(&want[0], v);
	EXPECT(dqc_exec(c, db, stmt, v, 6, &res) == DQC_ESERVER, "exec after finalize worked");

	/* the 20 kB text makes the set span several ROWS messages */
	struct readback rb = {0};
	rc = dqc_query_sql(c, db, "SELECT id, i, f, s, b, n FROM vals ORDER BY id", NULL, 0,
			   check_row, &rb);
	EXPECT(rc == 0, "select: %s", dqc_errmsg(c));
	EXPECT(!rb.bad, "read back: %s", rb.why);
	EXPECT(rb.rows == ROWS, "read back %d rows of %d", rb.rows, ROWS);

	/* a parameter in WHERE, through a prepared query */
	rc = dqc_prepare(c, db, "SELECT id, i, f, s, b, n FROM vals WHERE id <= ? ORDER BY id",
			 &stmt, &np);
	EXPECT(rc == 0 && np == 1, "prepare select: %s", dqc_errmsg(c));
	struct dqc_value lim = {.type = DQC_INTEGER, .i = 3};
	rb = (struct readback){0};
	rc = dqc_query(c, db, stmt, &lim, 1, check_row, &rb);
	EXPECT(rc == 0 && !rb.bad && rb.rows == 3, "prepared select: rc %d rows %d %s %s", rc,
	       rb.rows, rb.why, dqc_errmsg(c));
	EXPECT(dqc_finalize(c, db, stmt) == 0, "finalize: %s", dqc_errmsg(c));
	printf("ok values: %d rows of every type written and read back\n", ROWS);
}

struct many {
	int64_t rows, sum;
	int stop_at;
};

static int sum_rows(void *ctx, const struct dqc_row *row)
{
	struct many *m = ctx;
	m->rows++;
	m->sum += row->values[0].i;
	return m->stop_at && m->rows >= m->stop_at;
}

/* A set far larger than the server's 4 kB page comes in many ROWS messages; stopping early
 * drains the rest and leaves the connection in step. */
static void check_large_set(struct dqc_conn *c, uint32_t db)
{
	const char *sql = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?) "
			  "SELECT x, printf('%050d', x) FROM n";
	struct dqc_value lim = {.type = DQC_INTEGER, .i = 20000};
	struct many m = {0};
	int rc = dqc_query_sql(c, db, sql, &lim, 1, sum_rows, &m);
	EXPECT(rc == 0 && m.rows == 20000 && m.sum == 20000LL * 20001 / 2,
	       "large set: rc %d rows %" PRId64 " %s", rc, m.rows, dqc_errmsg(c));
	m = (struct many){.stop_at = 10};
	rc = dqc_query_sql(c, db, sql, &lim, 1, sum_rows, &m);
	EXPECT(rc == DQC_EABORT && m.rows == 10 && !dqc_is_broken(c), "stopped set: rc %d %s", rc,
	       dqc_errmsg(c));
	int64_t one = 0;
	EXPECT(dqc_query_sql(c, db, "SELECT 1", NULL, 0, count_rows, &one) == 0 && one == 1,
	       "after a stopped set: %s", dqc_errmsg(c));
	printf("ok large set: 20000 rows over many messages; a stopped query leaves the link usable\n");
}

static int first_text(void *ctx, const struct dqc_row *row)
{
	char *out = ctx;
	if (row->values[0].type == DQC_TEXT)
		snprintf(out, 64, "%s", (const char *)row->values[0].p);
	return 0;
}

/* The transaction shapes the store uses today (store.c) run unchanged on dqlite: BEGIN
 * IMMEDIATE, a savepoint rolled back inside it, ROLLBACK, and the integrity check. */
static void check_store_shapes(struct dqc_conn *c, uint32_t db)
{
	const char *steps[] = {
	    "CREATE TABLE sp (id INTEGER PRIMARY KEY, v TEXT)",
	    "BEGIN IMMEDIATE",
	    "INSERT INTO sp VALUES (1, 'kept')",
	    "SAVEPOINT sb",
	    "INSERT INTO sp VALUES (2, 'rolled back')",
	    "ROLLBACK TO sb",
	    "RELEASE sb",
	    "SAVEPOINT sb",
	    "INSERT INTO sp VALUES (3, 'released')",
	    "RELEASE sb",
	    "COMMIT",
	    "BEGIN",
	    "INSERT INTO sp VALUES (4, 'never')",
	    "ROLLBACK",
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		EXPECT(dqc_exec_sql(c, db, steps[i], NULL, 0, NULL) == 0, "%s: %s", steps[i],
		       dqc_errmsg(c));
	int64_t n = 0;
	EXPECT(dqc_query_sql(c, db, "SELECT count(*) FROM sp WHERE id IN (1, 3)", NULL, 0,
			     count_rows, &n) == 0 &&
		   n == 2,
	       "savepoints: %" PRId64 " of the 2 kept rows", n);
	EXPECT(dqc_query_sql(c, db, "SELECT count(*) FROM sp", NULL, 0, count_rows, &n) == 0 && n == 2,
	       "savepoints: %" PRId64 " rows, 2 expected", n);
	char ok[64] = "";
	EXPECT(dqc_query_sql(c, db, "PRAGMA integrity_check", NULL, 0, first_text, ok) == 0 &&
		   strcmp(ok, "ok") == 0,
	       "integrity_check: \"%s\" %s", ok, dqc_errmsg(c));
	printf("ok store shapes: BEGIN IMMEDIATE, savepoints, ROLLBACK, integrity_check\n");
}

/* A node that is paused accepts the TCP connection (the kernel does) but never answers:
 * the read times out, and leader discovery goes on to the other nodes. */
static void check_paused_node(void)
{
	struct dqc_conn *c = leader_conn(now_ms() + 10000);
	EXPECT(c, "no leader");
	uint64_t lid;
	char leader[ADDR];
	EXPECT(dqc_leader(c, &lid, leader, sizeof(leader)) == 0, "leader: %s", dqc_errmsg(c));
	dqc_close(c);
	int f = (node_of(leader) + 1) % NODES;
	pause_node(f);
	struct dqc_opts quick = opts;
	quick.io_timeout_ms = 500;
	struct dqc_conn *p;
	int64_t t = now_ms();
	int rc = dqc_connect(db_addr[f], &quick, &p);
	if (rc == 0) {
		char a[ADDR];
		rc = dqc_leader(p, &lid, a, sizeof(a));
		dqc_close(p);
	}
	int64_t took = now_ms() - t;
	/* the client goes first in the list order: the paused node costs one timeout */
	const char *order[NODES];
	for (int i = 0; i < NODES; i++)
		order[i] = db_addr[(f + i) % NODES];
	int rc2 = dqc_connect_leader(order, NODES, &quick, &c);
	if (rc2 == 0)
		dqc_close(c);
	kill(pids[f], SIGCONT);
	EXPECT(rc == DQC_ETIMEOUT, "paused node: rc %d (%s), wanted a timeout", rc, dqc_strerror(rc));
	EXPECT(took >= 450 && took <= 3 * 500 + 2000, "paused node: timed out after %" PRId64 " ms",
	       took);
	EXPECT(rc2 == 0, "leader not found with a paused follower first in the list");
	printf("ok paused node: read timed out after %" PRId64 " ms; leader found past it\n", took);
}

static void check_errors(struct dqc_conn *c, uint32_t db)
{
	int rc = dqc_exec_sql(c, db, "INSERT INTO nosuch VALUES (1)", NULL, 0, NULL);
	EXPECT(rc == DQC_ESERVER && dqc_server_code(c) == 1 && strstr(dqc_errmsg(c), "no such table"),
	       "bad SQL: rc %d code %" PRIu64 " %s", rc, dqc_server_code(c), dqc_errmsg(c));
	struct dqc_value v = {.type = DQC_INTEGER, .i = 1};
	rc = dqc_exec_sql(c, db, "INSERT INTO vals (id) VALUES (?)", &v, 1, NULL);
	EXPECT(rc == DQC_ESERVER && (dqc_server_code(c) & 0xff) == 19,
	       "duplicate key: rc %d code %" PRIu64 " %s", rc, dqc_server_code(c), dqc_errmsg(c));
	EXPECT(!dqc_is_broken(c), "a server error broke the connection");
	/* a write to a follower is refused with "not leader" */
	uint64_t id;
	char leader[ADDR];
	EXPECT(dqc_leader(c, &id, leader, sizeof(leader)) == 0, "leader: %s", dqc_errmsg(c));
	int f = (node_of(leader) + 1) % NODES;
	struct dqc_conn *fc;
	EXPECT(dqc_connect(db_addr[f], &opts, &fc) == 0, "connect to follower");
	EXPECT(dqc_client(fc, 0, NULL) == 0, "client on follower: %s", dqc_errmsg(fc));
	uint32_t fdb;
	rc = dqc_open(fc, "sbtest", &fdb);
	if (rc == 0)
		rc = dqc_exec_sql(fc, fdb, "INSERT INTO vals (id) VALUES (100)", NULL, 0, NULL);
	EXPECT(rc == DQC_ESERVER && dqc_code_is_not_leader(dqc_server_code(fc)),
	       "write on a follower: rc %d code %" PRIu64 " %s", rc, dqc_server_code(fc),
	       dqc_errmsg(fc));
	dqc_close(fc);
	printf("ok errors: bad SQL, constraint and follower writes give the server's code\n");
}

/* The official shell reads what we wrote, and we read what it wrote. */
static void check_shell(struct dqc_conn *c, uint32_t db)
{
	char shell[256], cmd[2048], out[256] = "";
	if (!in_path("dqlite", shell, sizeof(shell)))
		fail("the dqlite shell (package go-dqlite) is not in PATH");
	snprintf(cmd, sizeof(cmd),
		 "%s -s %s,%s,%s sbtest \"SELECT count(*), sum(length(s)), sum(length(b)) "
		 "FROM vals\" 2>&1; %s -s %s,%s,%s sbtest \"INSERT INTO vals (id, s) VALUES (1000, "
		 "'from the shell')\" 2>&1",
		 shell, db_addr[0], db_addr[1], db_addr[2], shell, db_addr[0], db_addr[1],
		 db_addr[2]);
	FILE *p = popen(cmd, "r");
	EXPECT(p, "popen: %s", strerror(errno));
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	pclose(p);
	size_t slen = 0, blen = 0;
	for (int k = 0; k < ROWS; k++) {
		slen += want[k].s_null ? 0 : utf8_chars(want[k].s, want[k].s_len);
		blen += want[k].b_null ? 0 : want[k].b_len;
	}
	char expect[128];
	snprintf(expect, sizeof(expect), "%d|%zu|%zu\n", ROWS, slen, blen);
	EXPECT(strcmp(out, expect) == 0, "dqlite shell read \"%s\", expected \"%s\"", out, expect);
	struct dqc_value id = {.type = DQC_INTEGER, .i = 1000};
	int64_t len = -1;
	int rc = dqc_query_sql(c, db, "SELECT length(s) FROM vals WHERE id = ? AND s = 'from the shell'",
			       &id, 1, count_rows, &len);
	EXPECT(rc == 0 && len == 14, "row written by the shell: rc %d len %" PRId64 " %s", rc, len,
	       dqc_errmsg(c));
	printf("ok shell: the dqlite shell reads our rows and we read its row\n");
}

/* ---- failover ---- */

#define WRITES 300
#define KILL_AT 120

static int collect_ids(void *ctx, const struct dqc_row *row)
{
	uint8_t *seen = ctx;
	int64_t id = row->values[0].i, v = row->values[1].i;
	if (id >= 1 && id <= WRITES)
		seen[id] = v == id * 7 ? 1 : 2;
	return 0;
}

static void check_failover(void)
{
	int64_t deadline = now_ms() + 10000;
	struct dqc_conn *c = leader_conn(deadline);
	EXPECT(c, "no leader before the failover");
	uint32_t db;
	EXPECT(dqc_open(c, "sbtest", &db) == 0, "open: %s", dqc_errmsg(c));
	EXPECT(dqc_exec_sql(c, db, "CREATE TABLE acked (id INTEGER PRIMARY KEY, v INTEGER)", NULL, 0,
			    NULL) == 0,
	       "create: %s", dqc_errmsg(c));
	static uint8_t acked[WRITES + 1];
	int64_t killed_at = 0, back_at = 0;
	int retries = 0, busy = 0;
	for (int id = 1; id <= WRITES; id++) {
		if (id == KILL_AT) {
			uint64_t lid;
			char leader[ADDR];
			EXPECT(dqc_leader(c, &lid, leader, sizeof(leader)) == 0, "leader?");
			int k = node_of(leader);
			EXPECT(k >= 0, "leader %s is none of ours", leader);
			kill(pids[k], SIGKILL);
			waitpid(pids[k], NULL, 0);
			pids[k] = 0;
			killed_at = now_ms();
			printf("killed the leader %s after %d acknowledged writes\n", leader, id - 1);
		}
		/* OR IGNORE: a write whose answer was lost may have committed */
		struct dqc_value v[2] = {{.type = DQC_INTEGER, .i = id},
					 {.type = DQC_INTEGER, .i = (int64_t)id * 7}};
		for (;;) {
			int rc = c ? dqc_exec_sql(c, db, "INSERT OR IGNORE INTO acked VALUES (?, ?)", v, 2,
						  NULL)
				   : DQC_EBROKEN;
			if (rc == 0)
				break;
			retries++;
			EXPECT(killed_at, "write %d failed before the kill: %s", id,
			       c ? dqc_errmsg(c) : "");
			EXPECT(now_ms() - killed_at < FAILOVER_BOUND_MS,
			       "no acknowledged write within %d ms of the kill (last: %s)",
			       FAILOVER_BOUND_MS, c ? dqc_errmsg(c) : "no leader");
			if (rc == DQC_ESERVER && dqc_code_is_busy(dqc_server_code(c))) {
				busy++;
				sleep_ms(50);
				continue;
			}
			dqc_close(c);
			c = leader_conn(killed_at + FAILOVER_BOUND_MS);
			if (c && dqc_open(c, "sbtest", &db) < 0) {
				dqc_close(c);
				c = NULL;
				sleep_ms(100);
			}
		}
		if (killed_at && !back_at)
			back_at = now_ms();
		acked[id] = 1;
	}
	static uint8_t seen[WRITES + 1];
	EXPECT(dqc_query_sql(c, db, "SELECT id, v FROM acked", NULL, 0, collect_ids, seen) == 0,
	       "read back: %s", dqc_errmsg(c));
	int lost = 0, wrong = 0;
	for (int id = 1; id <= WRITES; id++) {
		lost += acked[id] && !seen[id];
		wrong += seen[id] == 2;
	}
	EXPECT(lost == 0 && wrong == 0, "after the failover %d acknowledged rows are missing, %d wrong",
	       lost, wrong);
	int64_t count = 0;
	EXPECT(dqc_query_sql(c, db, "SELECT count(*) FROM acked", NULL, 0, count_rows, &count) == 0 &&
		   count == WRITES,
	       "%" PRId64 " rows where %d were acknowledged", count, WRITES);
	uint64_t lid;
	char leader[ADDR];
	EXPECT(dqc_leader(c, &lid, leader, sizeof(leader)) == 0 && node_of(leader) >= 0 &&
		   pids[node_of(leader)] > 0,
	       "new leader %s", leader);
	struct dqc_node *nodes;
	size_t n;
	EXPECT(dqc_cluster(c, &nodes, &n) == 0 && n == NODES, "cluster after the failover");
	free(nodes);
	dqc_close(c);
	printf("ok failover: new leader %s, writes back after %.1f s (%d retries, %d busy), "
	       "all %d acknowledged rows read back\n",
	       leader, (double)(back_at - killed_at) / 1000.0, retries, busy, WRITES);
}

/* ---- every replica ---- */

struct dump_dir {
	char dir[300];
	int files, bad;
};

static int write_file(void *ctx, const char *name, const void *data, size_t len)
{
	struct dump_dir *d = ctx;
	char path[600];
	/* the name comes from the peer: only a plain file name is written */
	if (strchr(name, '/') || name[0] == '.' || strlen(name) > 64) {
		d->bad = 1;
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s", d->dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || (len && fwrite(data, 1, len, f) != len)) {
		d->bad = 1;
		if (f)
			fclose(f);
		return 1;
	}
	fclose(f);
	d->files++;
	return 0;
}

static int sqlite_text(void *ctx, int n, char **vals, char **names)
{
	(void)names;
	if (n > 0 && vals[0])
		snprintf(ctx, 64, "%s", vals[0]);
	return 0;
}

/* DUMP the node's own copy, open it with SQLite: integrity and the acknowledged rows. */
static int replica_ok(int k, int64_t want_rows, char *why, size_t whysz)
{
	struct dump_dir d = {.files = 0};
	snprintf(d.dir, sizeof(d.dir), "%s/replica%d", tmpdir, k + 1);
	mkdir(d.dir, 0700);
	struct dqc_conn *c;
	if (dqc_connect(db_addr[k], &opts, &c) < 0) {
		snprintf(why, whysz, "connect failed");
		return 0;
	}
	int rc = dqc_dump(c, "sbtest", write_file, &d);
	if (rc < 0 || d.bad || d.files != 2) {
		snprintf(why, whysz, "dump: rc %d, %d files: %s", rc, d.files, dqc_errmsg(c));
		dqc_close(c);
		return 0;
	}
	dqc_close(c);
	char path[600], integrity[64] = "", count[64] = "";
	snprintf(path, sizeof(path), "%s/sbtest", d.dir);
	sqlite3 *db;
	if (sqlite3_open(path, &db) != SQLITE_OK) {
		snprintf(why, whysz, "sqlite3_open: %s", sqlite3_errmsg(db));
		sqlite3_close(db);
		return 0;
	}
	int ok = sqlite3_exec(db, "PRAGMA integrity_check", sqlite_text, integrity, NULL) == 0 &&
		 sqlite3_exec(db, "SELECT count(*) FROM acked WHERE v = id * 7", sqlite_text, count,
			      NULL) == 0;
	snprintf(why, whysz, "integrity \"%s\", %s of %" PRId64 " rows (%s)", integrity, count,
		 want_rows, sqlite3_errmsg(db));
	sqlite3_close(db);
	char expect[32];
	snprintf(expect, sizeof(expect), "%" PRId64, want_rows);
	return ok && strcmp(integrity, "ok") == 0 && strcmp(count, expect) == 0;
}

/* The killed node comes back and catches up; then every node's copy holds every row. */
static void check_replicas(void)
{
	int dead = -1;
	for (int k = 0; k < NODES; k++)
		if (pids[k] == 0)
			dead = k;
	EXPECT(dead >= 0, "no node was killed");
	start_node(demo_path, dead);
	int64_t deadline = now_ms() + 20000;
	for (int k = 0; k < NODES; k++) {
		char why[300];
		while (!replica_ok(k, WRITES, why, sizeof(why))) {
			EXPECT(now_ms() < deadline, "replica on %s%s: %s", db_addr[k],
			       k == dead ? " (restarted)" : "", why);
			sleep_ms(250);
		}
	}
	printf("ok replicas: the killed node caught up; integrity_check and all %d rows on each "
	       "of the %d nodes\n",
	       WRITES, NODES);
}

/* Leadership moves on request; a node is added to the group and removed again. */
static void check_membership(void)
{
	struct dqc_conn *c = leader_conn(now_ms() + 10000);
	EXPECT(c, "no leader");
	uint64_t lid, to = 0;
	char leader[ADDR];
	EXPECT(dqc_leader(c, &lid, leader, sizeof(leader)) == 0, "leader: %s", dqc_errmsg(c));
	struct dqc_node *nodes;
	size_t n;
	EXPECT(dqc_cluster(c, &nodes, &n) == 0, "cluster: %s", dqc_errmsg(c));
	for (size_t i = 0; i < n; i++)
		if (nodes[i].id != lid && nodes[i].role == DQC_VOTER)
			to = nodes[i].id;
	free(nodes);
	EXPECT(to, "no other voter to hand leadership to");
	EXPECT(dqc_transfer(c, to) == 0, "transfer: %s", dqc_errmsg(c));
	dqc_close(c);
	int64_t deadline = now_ms() + 10000;
	for (;;) {
		c = leader_conn(deadline);
		EXPECT(c, "no leader after the transfer");
		uint64_t now_id = 0;
		dqc_leader(c, &now_id, leader, sizeof(leader));
		if (now_id == to)
			break;
		dqc_close(c);
		EXPECT(now_ms() < deadline, "leadership did not move to %" PRIx64, to);
		sleep_ms(100);
	}
	/* a spare that does not exist: configuration only, it is never contacted for votes */
	const uint64_t ghost = 0x5eab41d9e0001ULL;
	EXPECT(dqc_add(c, ghost, "127.0.0.1:9") == 0, "add: %s", dqc_errmsg(c));
	int listed = 0;
	EXPECT(dqc_cluster(c, &nodes, &n) == 0, "cluster: %s", dqc_errmsg(c));
	for (size_t i = 0; i < n; i++)
		listed += nodes[i].id == ghost && strcmp(nodes[i].address, "127.0.0.1:9") == 0;
	free(nodes);
	EXPECT(listed == 1, "the added node is not listed");
	/* the demo's role manager may be changing roles at the same moment: retry */
	deadline = now_ms() + 10000;
	while (dqc_remove(c, ghost) < 0) {
		EXPECT(!dqc_is_broken(c) && now_ms() < deadline, "remove: %s", dqc_errmsg(c));
		sleep_ms(200);
	}
	EXPECT(dqc_cluster(c, &nodes, &n) == 0 && n == NODES, "cluster after remove: %zu nodes", n);
	free(nodes);
	dqc_close(c);
	printf("ok membership: leadership transferred to %016" PRIx64 "; a node added and removed\n",
	       to);
}

/* The old active node is paused past the election timeout in the middle of a transaction
 * that passed its fence check. Another node takes over and moves the epoch. The old one
 * wakes: it cannot commit that transaction, nor a new one, and its rows are not there. */
static void check_paused_leader(void)
{
	struct dqc_opts quick = opts;
	quick.io_timeout_ms = 1000;
	struct dqc_conn *old = leader_conn(now_ms() + 10000);
	EXPECT(old, "no leader");
	uint32_t odb, ndb;
	uint64_t lid;
	char leader[ADDR];
	EXPECT(dqc_open(old, "sbtest", &odb) == 0 && dqc_leader(old, &lid, leader, sizeof(leader)) == 0,
	       "open: %s", dqc_errmsg(old));
	int k = node_of(leader);
	const char *steps[] = {
	    "CREATE TABLE cluster_epoch (epoch INTEGER NOT NULL, node INTEGER NOT NULL)",
	    "INSERT INTO cluster_epoch VALUES (1, 1)",
	    "CREATE TABLE pl (id INTEGER PRIMARY KEY, by TEXT)",
	    "BEGIN",
	    "UPDATE cluster_epoch SET epoch = epoch WHERE epoch = 1",
	    "INSERT INTO pl VALUES (1, 'old, before the pause')",
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		EXPECT(dqc_exec_sql(old, odb, steps[i], NULL, 0, NULL) == 0, "%s: %s", steps[i],
		       dqc_errmsg(old));
	pause_node(k);
	int64_t paused = now_ms();
	const char *others[NODES - 1];
	for (int i = 1; i < NODES; i++)
		others[i - 1] = db_addr[(k + i) % NODES];
	/* the takeover: one transaction moves the epoch */
	struct dqc_conn *c = NULL;
	int busy = 0;
	for (;;) {
		EXPECT(now_ms() - paused < FAILOVER_BOUND_MS,
		       "no takeover within %d ms of the pause (%s)", FAILOVER_BOUND_MS,
		       c ? dqc_errmsg(c) : "no leader");
		if (!c && (dqc_connect_leader(others, NODES - 1, &quick, &c) < 0 ||
			   dqc_open(c, "sbtest", &ndb) < 0)) {
			dqc_close(c);
			c = NULL;
			sleep_ms(100);
			continue;
		}
		struct dqc_result r;
		int rc = dqc_exec_sql(c, ndb, "UPDATE cluster_epoch SET epoch = 2, node = 2 WHERE epoch = 1",
				      NULL, 0, &r);
		if (rc == 0 && r.rows_affected == 1)
			break;
		EXPECT(rc < 0, "the epoch was not 1 at the takeover");
		if (rc == DQC_ESERVER && dqc_code_is_busy(dqc_server_code(c))) {
			busy++;
			sleep_ms(50);
			continue;
		}
		dqc_close(c);
		c = NULL;
		sleep_ms(100);
	}
	int64_t took = now_ms() - paused;
	EXPECT(dqc_exec_sql(c, ndb, "INSERT INTO pl VALUES (2, 'new')", NULL, 0, NULL) == 0,
	       "insert on the new leader: %s", dqc_errmsg(c));
	kill(pids[k], SIGCONT);
	/* the old node wakes: its open transaction and any new one are refused */
	int rc1 = dqc_exec_sql(old, odb, "COMMIT", NULL, 0, NULL);
	char why1[200];
	uint64_t code1 = dqc_server_code(old);
	snprintf(why1, sizeof(why1), "%s", dqc_errmsg(old));
	int rc2 = dqc_is_broken(old) ? DQC_EBROKEN
				     : dqc_exec_sql(old, odb, "INSERT INTO pl VALUES (3, 'old, after')",
						    NULL, 0, NULL);
	dqc_close(old);
	EXPECT(rc1 < 0, "the paused leader committed its transaction after waking");
	/* "disk I/O error" here is SQLITE_IOERR_LEADERSHIP_LOST, not a disk fault */
	EXPECT(rc1 != DQC_ESERVER || dqc_code_is_not_leader(code1),
	       "the woken leader's COMMIT failed with code %" PRIu64 " (%s), not as not-leader",
	       code1, why1);
	EXPECT(rc2 < 0, "the paused leader committed a new write after waking");
	int64_t n = -1, epoch = -1;
	EXPECT(dqc_query_sql(c, ndb, "SELECT count(*) FROM pl WHERE id <> 2", NULL, 0, count_rows, &n) ==
		       0 &&
		   dqc_query_sql(c, ndb, "SELECT epoch FROM cluster_epoch", NULL, 0, count_rows, &epoch) ==
		       0,
	       "read back: %s", dqc_errmsg(c));
	EXPECT(n == 0 && epoch == 2, "after the wake: %" PRId64 " rows of the old leader, epoch %" PRId64,
	       n, epoch);
	dqc_close(c);
	printf("ok paused leader: takeover after %.1f s (%d busy); on waking its COMMIT got \"%s\" "
	       "(%" PRIu64 "), nothing of it committed\n",
	       (double)took / 1000.0, busy, why1, code1);
}

/* ---- benchmark ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *what, double *lat, int n, double elapsed, int rows_per)
{
	qsort(lat, (size_t)n, sizeof(double), cmp_double);
	printf("%-38s %6d tx %8.0f tx/s %8.0f rows/s  p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms\n",
	       what, n, n / elapsed, n * rows_per / elapsed, lat[n / 2] * 1e3,
	       lat[(int)(n * 0.99)] * 1e3, lat[n - 1] * 1e3);
}

static void bench(int n)
{
	struct dqc_conn *c = leader_conn(now_ms() + 10000);
	EXPECT(c, "no leader");
	uint32_t db;
	EXPECT(dqc_open(c, "sbbench", &db) == 0, "open: %s", dqc_errmsg(c));
	EXPECT(dqc_exec_sql(c, db,
			    "CREATE TABLE ev (id INTEGER PRIMARY KEY, seal TEXT, at INTEGER, kind TEXT);"
			    "CREATE TABLE fence (epoch INTEGER NOT NULL); INSERT INTO fence VALUES (1)",
			    NULL, 0, NULL) == 0,
	       "create: %s", dqc_errmsg(c));
	double *lat = calloc((size_t)n, sizeof(double));
	EXPECT(lat, "out of memory");
	uint32_t ins;
	EXPECT(dqc_prepare(c, db, "INSERT INTO ev (seal, at, kind) VALUES (?, ?, ?)", &ins, NULL) == 0,
	       "prepare: %s", dqc_errmsg(c));
	int64_t at = 1700000000000;

	/* 1: one autocommit INSERT = one replicated transaction */
	double t0 = now_s();
	for (int k = 0; k < n; k++) {
		struct dqc_value v[3] = {{.type = DQC_TEXT, .p = "seal-000123", .n = 11},
					 {.type = DQC_INTEGER, .i = at++},
					 {.type = DQC_TEXT, .p = "open", .n = 4}};
		double s = now_s();
		EXPECT(dqc_exec(c, db, ins, v, 3, NULL) == 0, "insert: %s", dqc_errmsg(c));
		lat[k] = now_s() - s;
	}
	report("single-row INSERT (autocommit)", lat, n, now_s() - t0, 1);

	/* 2: BEGIN; fence check; INSERT; COMMIT, the shape of a fenced state change */
	uint32_t fence;
	EXPECT(dqc_prepare(c, db, "UPDATE fence SET epoch = epoch WHERE epoch = ?", &fence, NULL) == 0,
	       "prepare: %s", dqc_errmsg(c));
	t0 = now_s();
	for (int k = 0; k < n; k++) {
		struct dqc_value e = {.type = DQC_INTEGER, .i = 1};
		struct dqc_value v[3] = {{.type = DQC_TEXT, .p = "seal-000123", .n = 11},
					 {.type = DQC_INTEGER, .i = at++},
					 {.type = DQC_TEXT, .p = "open", .n = 4}};
		struct dqc_result r;
		double s = now_s();
		EXPECT(dqc_exec_sql(c, db, "BEGIN", NULL, 0, NULL) == 0, "begin: %s", dqc_errmsg(c));
		EXPECT(dqc_exec(c, db, fence, &e, 1, &r) == 0 && r.rows_affected == 1, "fence: %s",
		       dqc_errmsg(c));
		EXPECT(dqc_exec(c, db, ins, v, 3, NULL) == 0, "insert: %s", dqc_errmsg(c));
		EXPECT(dqc_exec_sql(c, db, "COMMIT", NULL, 0, NULL) == 0, "commit: %s", dqc_errmsg(c));
		lat[k] = now_s() - s;
	}
	report("BEGIN; fence; INSERT; COMMIT", lat, n, now_s() - t0, 1);

	/* 3: a timer burst: 500 rows in one transaction */
	int bursts = n / 20 > 5 ? n / 20 : 5;
	t0 = now_s();
	for (int k = 0; k < bursts; k++) {
		double s = now_s();
		EXPECT(dqc_exec_sql(c, db, "BEGIN", NULL, 0, NULL) == 0, "begin: %s", dqc_errmsg(c));
		for (int j = 0; j < 500; j++) {
			struct dqc_value v[3] = {{.type = DQC_TEXT, .p = "seal-000123", .n = 11},
						 {.type = DQC_INTEGER, .i = at++},
						 {.type = DQC_TEXT, .p = "silent", .n = 6}};
			EXPECT(dqc_exec(c, db, ins, v, 3, NULL) == 0, "insert: %s", dqc_errmsg(c));
		}
		EXPECT(dqc_exec_sql(c, db, "COMMIT", NULL, 0, NULL) == 0, "commit: %s", dqc_errmsg(c));
		lat[k] = now_s() - s;
	}
	report("burst: 500 INSERTs in one transaction", lat, bursts, now_s() - t0, 500);

	/* 4: the same burst as multi-row INSERTs (85 rows = 255 parameters each) */
	char sql[4096] = "INSERT INTO ev (seal, at, kind) VALUES (?, ?, ?)";
	for (int j = 1; j < 85; j++)
		strcat(sql, ", (?, ?, ?)");
	struct dqc_value *pv = calloc(255, sizeof(*pv));
	EXPECT(pv, "out of memory");
	t0 = now_s();
	for (int k = 0; k < bursts; k++) {
		double s = now_s();
		EXPECT(dqc_exec_sql(c, db, "BEGIN", NULL, 0, NULL) == 0, "begin: %s", dqc_errmsg(c));
		for (int left = 500; left > 0;) {
			int rows = left < 85 ? left : 85;
			char *cut = sql + strlen("INSERT INTO ev (seal, at, kind) VALUES (?, ?, ?)") +
				    (size_t)(rows - 1) * strlen(", (?, ?, ?)");
			char keep = *cut;
			*cut = 0;
			for (int j = 0; j < rows; j++) {
				pv[3 * j] = (struct dqc_value){.type = DQC_TEXT, .p = "seal-000123", .n = 11};
				pv[3 * j + 1] = (struct dqc_value){.type = DQC_INTEGER, .i = at++};
				pv[3 * j + 2] = (struct dqc_value){.type = DQC_TEXT, .p = "silent", .n = 6};
			}
			int rc = dqc_exec_sql(c, db, sql, pv, (unsigned)(3 * rows), NULL);
			*cut = keep;
			EXPECT(rc == 0, "multi-row insert: %s", dqc_errmsg(c));
			left -= rows;
		}
		EXPECT(dqc_exec_sql(c, db, "COMMIT", NULL, 0, NULL) == 0, "commit: %s", dqc_errmsg(c));
		lat[k] = now_s() - s;
	}
	report("burst: 500 rows as 6 multi-row INSERTs", lat, bursts, now_s() - t0, 500);
	free(pv);
	dqc_close(c);

	/* the single-node baseline: the same INSERT into a local SQLite file in WAL mode */
	const char *modes[] = {"NORMAL", "FULL"};
	for (int m = 0; m < 2; m++) {
		char path[400], pragma[64];
		snprintf(path, sizeof(path), "%s/local-%s.db", tmpdir, modes[m]);
		sqlite3 *ldb;
		sqlite3_stmt *st;
		EXPECT(sqlite3_open(path, &ldb) == SQLITE_OK, "sqlite3_open %s", path);
		snprintf(pragma, sizeof(pragma), "PRAGMA synchronous=%s", modes[m]);
		EXPECT(sqlite3_exec(ldb, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) == SQLITE_OK &&
			   sqlite3_exec(ldb, pragma, NULL, NULL, NULL) == SQLITE_OK &&
			   sqlite3_exec(ldb,
					"CREATE TABLE ev (id INTEGER PRIMARY KEY, seal TEXT, at INTEGER, "
					"kind TEXT)",
					NULL, NULL, NULL) == SQLITE_OK &&
			   sqlite3_prepare_v2(ldb, "INSERT INTO ev (seal, at, kind) VALUES (?, ?, ?)",
					      -1, &st, NULL) == SQLITE_OK,
		       "local sqlite: %s", sqlite3_errmsg(ldb));
		t0 = now_s();
		for (int k = 0; k < n; k++) {
			double s = now_s();
			sqlite3_bind_text(st, 1, "seal-000123", 11, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, at++);
			sqlite3_bind_text(st, 3, "open", 4, SQLITE_STATIC);
			EXPECT(sqlite3_step(st) == SQLITE_DONE, "local insert: %s", sqlite3_errmsg(ldb));
			sqlite3_reset(st);
			lat[k] = now_s() - s;
		}
		char what[64];
		snprintf(what, sizeof(what), "local SQLite, WAL, synchronous=%s", modes[m]);
		report(what, lat, n, now_s() - t0, 1);
		sqlite3_finalize(st);
		sqlite3_close(ldb);
	}
	free(lat);
}

int main(int argc, char **argv)
{
	int bench_n = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--bench") == 0 && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 10 || v > 1000000) {
				fprintf(stderr, "--bench wants a count of 10..1000000\n");
				return 2;
			}
			bench_n = (int)v;
		} else if (strcmp(argv[i], "--keep") == 0) {
			keep_dir = 1;
		} else {
			fprintf(stderr, "usage: %s [--bench N] [--keep]\n", argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	char demo[512];
	if (!in_path("dqlite-demo", demo, sizeof(demo))) {
		fprintf(stderr, "FAILED: dqlite-demo is not in PATH (Debian package go-dqlite; "
				"scripts/test.sh installs it)\n");
		return 1;
	}
	demo_path = demo;
	EXPECT(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	dir_made = 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	dqc_opts_default(&opts);
	opts.connect_timeout_ms = 1000;
	opts.io_timeout_ms = 5000;

	double t0 = now_s();
	start_group(demo);
	printf("group of %d voters up in %.1f s: %s %s %s\n", NODES, now_s() - t0, db_addr[0],
	       db_addr[1], db_addr[2]);
	if (bench_n) {
		bench(bench_n);
		cleanup();
		return 0;
	}

	struct dqc_conn *c = leader_conn(now_ms() + 10000);
	EXPECT(c, "no leader");
	/* every node names the same leader, and the leader lists the three of us */
	char leader[ADDR], other[ADDR];
	uint64_t lid, oid;
	EXPECT(dqc_leader(c, &lid, leader, sizeof(leader)) == 0 && lid != 0 &&
		   strcmp(leader, dqc_address(c)) == 0,
	       "leader: %s", dqc_errmsg(c));
	/* a node just promoted to voter may not have heard from the leader yet: wait for it */
	int64_t agree_by = now_ms() + 10000;
	for (int i = 0; i < NODES; i++) {
		for (;;) {
			struct dqc_conn *o;
			EXPECT(dqc_connect(db_addr[i], &opts, &o) == 0, "connect %s", db_addr[i]);
			int rc = dqc_leader(o, &oid, other, sizeof(other));
			dqc_close(o);
			EXPECT(rc == 0, "leader from %s", db_addr[i]);
			if (oid == lid && strcmp(other, leader) == 0)
				break;
			EXPECT(oid == 0 && other[0] == 0 && now_ms() < agree_by,
			       "node %s names leader \"%s\", the leader says %s", db_addr[i], other,
			       leader);
			sleep_ms(100);
		}
	}
	struct dqc_node *nodes;
	size_t n;
	EXPECT(dqc_cluster(c, &nodes, &n) == 0 && n == NODES, "cluster: %s", dqc_errmsg(c));
	int found = 0, leader_listed = 0;
	for (size_t i = 0; i < n; i++) {
		found |= node_of(nodes[i].address) >= 0 ? 1 << node_of(nodes[i].address) : 0;
		leader_listed += nodes[i].id == lid;
		printf("  node %016" PRIx64 " %s %s\n", nodes[i].id, nodes[i].address,
		       dqc_role_name(nodes[i].role));
	}
	free(nodes);
	EXPECT(found == (1 << NODES) - 1 && leader_listed == 1, "cluster lists the wrong nodes");
	printf("ok leader and cluster: %s leads, all nodes agree\n", leader);

	uint32_t db;
	EXPECT(dqc_open(c, "sbtest", &db) == 0, "open: %s", dqc_errmsg(c));
	check_values(c, db);
	check_errors(c, db);
	check_shell(c, db);
	check_large_set(c, db);
	check_store_shapes(c, db);
	dqc_close(c);
	check_paused_node();
	check_failover();
	check_replicas();
	check_membership();
	check_paused_leader();
	cleanup();
	printf("all dqlite cluster checks passed in %.1f s\n", now_s() - t0);
	return 0;
}
