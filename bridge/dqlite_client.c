/* dqlite wire-protocol client over TCP. Message layout lives in dqlite_wire.c; this file is
 * the socket, the timeouts and the request/response pairing. */
#include "dqlite_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ADDR_MAX 256

struct dqc_conn {
	int fd;
	int broken;
	struct dqc_opts o;
	struct dqc_buf tx;
	uint8_t *rx;
	size_t rx_cap;
	struct dqc_header rh;
	uint64_t code;
	char address[ADDR_MAX];
	char err[ADDR_MAX + 256];
};

void dqc_opts_default(struct dqc_opts *o)
{
	o->connect_timeout_ms = 2000;
	o->io_timeout_ms = 10000;
	o->max_message = 16u << 20;
	o->max_result = 256u << 20;
	o->client_id = 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int seterr(struct dqc_conn *c, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	/* anything but a clean server answer or a bad argument leaves the stream out of step */
	if (rc != DQC_ESERVER && rc != DQC_EINVAL && rc != DQC_EABORT)
		c->broken = 1;
	return rc;
}

/* Wait until fd is ready for events or the deadline passes. */
static int wait_fd(struct dqc_conn *c, short events, int64_t deadline, const char *what)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return seterr(c, DQC_ETIMEOUT, "%s: %s timed out", c->address, what);
		struct pollfd p = {.fd = c->fd, .events = events};
		int r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 0; /* errors and hang-ups show in the following read or write */
		if (r < 0 && errno != EINTR)
			return seterr(c, DQC_ESYS, "%s: poll: %s", c->address, strerror(errno));
	}
}

static int send_all(struct dqc_conn *c, const uint8_t *p, size_t len, int64_t deadline)
{
	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = wait_fd(c, POLLOUT, deadline, "write");
			if (rc < 0)
				return rc;
			continue;
		}
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return seterr(c, DQC_ECLOSED, "%s: connection closed by the peer", c->address);
		return seterr(c, DQC_ESYS, "%s: send: %s", c->address, strerror(errno));
	}
	return 0;
}

static int recv_all(struct dqc_conn *c, uint8_t *p, size_t len, int64_t deadline)
{
	while (len) {
		ssize_t n = recv(c->fd, p, len, 0);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return seterr(c, DQC_ECLOSED, "%s: connection closed by the peer", c->address);
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int rc = wait_fd(c, POLLIN, deadline, "read");
			if (rc < 0)
				return rc;
			continue;
		}
		return seterr(c, DQC_ESYS, "%s: recv: %s", c->address, strerror(errno));
	}
	return 0;
}

/* Read one message into c->rx / c->rh. A failure response becomes DQC_ESERVER. */
static int recv_msg(struct dqc_conn *c, int64_t deadline)
{
	uint8_t raw[DQC_HEADER_SIZE];
	int rc = recv_all(c, raw, sizeof(raw), deadline);
	if (rc < 0)
		return rc;
	dqc_header_decode(raw, &c->rh);
	size_t len = (size_t)c->rh.words * DQC_WORD;
	if ((uint64_t)c->rh.words * DQC_WORD > c->o.max_message)
		return seterr(c, DQC_ETOOBIG, "%s: response of %llu bytes exceeds the %zu byte bound",
			      c->address, (unsigned long long)c->rh.words * DQC_WORD,
			      c->o.max_message);
	if (len > c->rx_cap) {
		uint8_t *p = realloc(c->rx, len);
		if (!p)
			return seterr(c, DQC_ENOMEM, "%s: out of memory", c->address);
		c->rx = p;
		c->rx_cap = len;
	}
	rc = recv_all(c, c->rx, len, deadline);
	if (rc < 0)
		return rc;
	if (c->rh.type == DQC_RES_FAILURE) {
		struct dqc_reader r;
		const char *msg;
		dqc_reader_init(&r, c->rx, len);
		if (dqc_dec_failure(&r, &c->code, &msg) < 0)
			return seterr(c, DQC_EPROTO, "%s: malformed failure response", c->address);
		/* the text comes from the peer and ends up in logs: no control bytes */
		size_t i = 0;
		for (; msg[i] && i < sizeof(c->err) - 1; i++)
			c->err[i] = ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f) ? '?' : msg[i];
		c->err[i] = 0;
		return DQC_ESERVER;
	}
	return 0;
}

/* Send c->tx and read the response, which must be of type want. */
static int call(struct dqc_conn *c, int encoded, int want, struct dqc_reader *r)
{
	if (c->broken)
		return DQC_EBROKEN;
	if (encoded < 0) { /* nothing was sent: the link stays usable */
		snprintf(c->err, sizeof(c->err), "%s: request not encodable (%s)", c->address,
			 dqc_strerror(encoded));
		return encoded;
	}
	c->code = 0;
	int64_t deadline = now_ms() + c->o.io_timeout_ms;
	int rc = send_all(c, c->tx.data, c->tx.len, deadline);
	if (rc == 0)
		rc = recv_msg(c, deadline);
	if (rc < 0)
		return rc;
	if (c->rh.type != want)
		return seterr(c, DQC_EPROTO, "%s: response type %u where %d was expected",
			      c->address, c->rh.type, want);
	dqc_reader_init(r, c->rx, (size_t)c->rh.words * DQC_WORD);
	return 0;
}

static int malformed(struct dqc_conn *c, const char *what)
{
	return seterr(c, DQC_EPROTO, "%s: malformed %s response", c->address, what);
}

static int parse_address(const char *a, char *host, size_t hsz, char *port, size_t psz)
{
	const char *colon;
	size_t hl;
	if (!a)
		return DQC_EINVAL;
	if (a[0] == '[') {
		const char *end = strchr(a, ']');
		if (!end || end[1] != ':')
			return DQC_EINVAL;
		a++;
		hl = (size_t)(end - a);
		colon = end + 1;
	} else {
		colon = strrchr(a, ':');
		if (!colon)
			return DQC_EINVAL;
		hl = (size_t)(colon - a);
	}
	const char *p = colon + 1;
	size_t pl = strlen(p);
	if (hl == 0 || hl >= hsz || pl == 0 || pl > 5 || pl >= psz)
		return DQC_EINVAL;
	unsigned long v = 0;
	for (size_t i = 0; i < pl; i++) {
		if (p[i] < '0' || p[i] > '9')
			return DQC_EINVAL;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v == 0 || v > 65535)
		return DQC_EINVAL;
	memcpy(host, a, hl);
	host[hl] = 0;
	memcpy(port, p, pl + 1);
	return 0;
}

static struct dqc_conn *conn_new(const char *address, const struct dqc_opts *o)
{
	struct dqc_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = -1;
	if (o)
		c->o = *o;
	else
		dqc_opts_default(&c->o);
	if (c->o.max_message < 4096)
		c->o.max_message = 4096; /* the server's smallest buffer: a failure always fits */
	snprintf(c->address, sizeof(c->address), "%s", address ? address : "?");
	dqc_buf_init(&c->tx, c->o.max_message);
	return c;
}

static int handshake(struct dqc_conn *c)
{
	uint8_t v[8];
	for (int i = 0; i < 8; i++)
		v[i] = (uint8_t)(DQC_PROTOCOL_VERSION >> (8 * i));
	return send_all(c, v, sizeof(v), now_ms() + c->o.io_timeout_ms);
}

int dqc_conn_from_fd(int fd, const char *address, const struct dqc_opts *o,
		     struct dqc_conn **out)
{
	*out = NULL;
	struct dqc_conn *c = conn_new(address, o);
	if (!c) {
		close(fd);
		return DQC_ENOMEM;
	}
	c->fd = fd;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		dqc_close(c);
		return DQC_ESYS;
	}
	int one = 1; /* fails harmlessly on a socket that is not TCP */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	int rc = handshake(c);
	if (rc < 0) {
		dqc_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

static int connect_one(struct dqc_conn *c, const struct addrinfo *ai, int64_t deadline)
{
	c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (c->fd < 0)
		return seterr(c, DQC_ESYS, "%s: socket: %s", c->address, strerror(errno));
	int fl = fcntl(c->fd, F_GETFL);
	if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return seterr(c, DQC_ESYS, "%s: fcntl: %s", c->address, strerror(errno));
	/* one small request, one small answer: Nagle would add up to 40 ms to each commit */
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR)
		return seterr(c, DQC_ESYS, "%s: connect: %s", c->address, strerror(errno));
	int rc = wait_fd(c, POLLOUT, deadline, "connect");
	if (rc < 0)
		return rc;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr)
		return seterr(c, soerr == ECONNREFUSED ? DQC_ECLOSED : DQC_ESYS, "%s: connect: %s",
			      c->address, strerror(soerr));
	return 0;
}

int dqc_connect(const char *address, const struct dqc_opts *o, struct dqc_conn **out)
{
	char host[ADDR_MAX], port[8];
	*out = NULL;
	if (parse_address(address, host, sizeof(host), port, sizeof(port)) < 0)
		return DQC_EINVAL;
	struct dqc_conn *c = conn_new(address, o);
	if (!c)
		return DQC_ENOMEM;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		dqc_close(c);
		return DQC_EINVAL;
	}
	int64_t deadline = now_ms() + c->o.connect_timeout_ms;
	rc = DQC_ESYS;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		c->broken = 0;
		rc = connect_one(c, ai, deadline);
		if (rc == 0)
			break;
		close(c->fd);
		c->fd = -1;
	}
	freeaddrinfo(res);
	if (rc == 0)
		rc = handshake(c);
	if (rc < 0) {
		dqc_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void dqc_close(struct dqc_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	dqc_buf_free(&c->tx);
	free(c->rx);
	free(c);
}

int dqc_leader(struct dqc_conn *c, uint64_t *id, char *address, size_t address_size)
{
	struct dqc_reader r;
	const char *a;
	int rc = call(c, dqc_enc_leader(&c->tx), DQC_RES_NODE, &r);
	if (rc < 0)
		return rc;
	if (dqc_dec_node(&r, id, &a) < 0)
		return malformed(c, "leader");
	if (strlen(a) >= address_size)
		return seterr(c, DQC_EPROTO, "%s: leader address too long", c->address);
	memcpy(address, a, strlen(a) + 1);
	return 0;
}

int dqc_client(struct dqc_conn *c, uint64_t id, uint64_t *heartbeat_ms)
{
	struct dqc_reader r;
	uint64_t hb;
	int rc = call(c, dqc_enc_client(&c->tx, id), DQC_RES_WELCOME, &r);
	if (rc < 0)
		return rc;
	if (dqc_dec_welcome(&r, &hb) < 0)
		return malformed(c, "welcome");
	if (heartbeat_ms)
		*heartbeat_ms = hb;
	return 0;
}

int dqc_open(struct dqc_conn *c, const char *name, uint32_t *db)
{
	struct dqc_reader r;
	int rc = call(c, dqc_enc_open(&c->tx, name, 0, "volatile"), DQC_RES_DB, &r);
	if (rc < 0)
		return rc;
	return dqc_dec_db(&r, db) < 0 ? malformed(c, "db") : 0;
}

static int read_result(struct dqc_conn *c, int rc, struct dqc_reader *r, struct dqc_result *res)
{
	struct dqc_result tmp;
	if (rc < 0)
		return rc;
	if (!res)
		res = &tmp;
	if (dqc_dec_result(r, &res->last_insert_id, &res->rows_affected) < 0)
		return malformed(c, "result");
	return 0;
}

int dqc_exec_sql(struct dqc_conn *c, uint32_t db, const char *sql,
		 const struct dqc_value *params, unsigned n, struct dqc_result *res)
{
	struct dqc_reader r;
	int rc = call(c, dqc_enc_exec_sql(&c->tx, db, sql, params, n), DQC_RES_RESULT, &r);
	return read_result(c, rc, &r, res);
}

int dqc_exec(struct dqc_conn *c, uint32_t db, uint32_t stmt, const struct dqc_value *params,
	     unsigned n, struct dqc_result *res)
{
	struct dqc_reader r;
	int rc = call(c, dqc_enc_exec(&c->tx, db, stmt, params, n), DQC_RES_RESULT, &r);
	return read_result(c, rc, &r, res);
}

/* Walk the ROWS messages of one result set: the first is in c->rx already. */
static int read_rows(struct dqc_conn *c, dqc_row_fn fn, void *ctx)
{
	uint64_t total = 0;
	int stopped = 0;
	for (;;) {
		size_t len = (size_t)c->rh.words * DQC_WORD;
		total += len;
		if (total > c->o.max_result)
			return seterr(c, DQC_ETOOBIG, "%s: result set exceeds %llu bytes",
				      c->address, (unsigned long long)c->o.max_result);
		struct dqc_reader r;
		unsigned ncols;
		dqc_reader_init(&r, c->rx, len);
		if (dqc_dec_columns(&r, &ncols) < 0)
			return malformed(c, "rows");
		const char **names = malloc(ncols * sizeof(*names));
		struct dqc_value *vals = malloc(ncols * sizeof(*vals));
		int rc = (!names || !vals) ? seterr(c, DQC_ENOMEM, "%s: out of memory", c->address)
					   : 0;
		for (unsigned i = 0; rc == 0 && i < ncols; i++)
			if (dqc_get_text(&r, &names[i], NULL) < 0)
				rc = malformed(c, "rows");
		while (rc == 0) {
			rc = dqc_dec_row(&r, ncols, vals);
			if (rc == DQC_ROW) {
				rc = 0;
				struct dqc_row row = {ncols, names, vals};
				if (!stopped && fn && fn(ctx, &row) != 0)
					stopped = 1;
			} else if (rc < 0) {
				rc = malformed(c, "rows");
			}
		}
		free(names);
		free(vals);
		if (rc < 0)
			return rc;
		if (rc == DQC_ROWS_DONE)
			return stopped ? seterr(c, DQC_EABORT, "query stopped by the caller") : 0;
		/* DQC_ROWS_PART: the server sends the next batch on its own */
		rc = recv_msg(c, now_ms() + c->o.io_timeout_ms);
		if (rc < 0)
			return rc;
		if (c->rh.type != DQC_RES_ROWS)
			return seterr(c, DQC_EPROTO, "%s: response type %u inside a row set",
				      c->address, c->rh.type);
	}
}

int dqc_query_sql(struct dqc_conn *c, uint32_t db, const char *sql,
		  const struct dqc_value *params, unsigned n, dqc_row_fn fn, void *ctx)
{
	struct dqc_reader r;
	int rc = call(c, dqc_enc_query_sql(&c->tx, db, sql, params, n), DQC_RES_ROWS, &r);
	return rc < 0 ? rc : read_rows(c, fn, ctx);
}

int dqc_query(struct dqc_conn *c, uint32_t db, uint32_t stmt, const struct dqc_value *params,
	      unsigned n, dqc_row_fn fn, void *ctx)
{
	struct dqc_reader r;
	int rc = call(c, dqc_enc_query(&c->tx, db, stmt, params, n), DQC_RES_ROWS, &r);
	return rc < 0 ? rc : read_rows(c, fn, ctx);
}

int dqc_prepare(struct dqc_conn *c, uint32_t db, const char *sql, uint32_t *stmt,
		uint64_t *nparams)
{
	struct dqc_reader r;
	uint32_t rdb;
	uint64_t np;
	int rc = call(c, dqc_enc_prepare(&c->tx, db, sql), DQC_RES_STMT, &r);
	if (rc < 0)
		return rc;
	if (dqc_dec_stmt(&r, &rdb, stmt, &np) < 0)
		return malformed(c, "stmt");
	if (nparams)
		*nparams = np;
	return 0;
}

int dqc_finalize(struct dqc_conn *c, uint32_t db, uint32_t stmt)
{
	struct dqc_reader r;
	return call(c, dqc_enc_finalize(&c->tx, db, stmt), DQC_RES_EMPTY, &r);
}

int dqc_cluster(struct dqc_conn *c, struct dqc_node **nodes, size_t *n)
{
	struct dqc_reader r;
	struct dqc_node_view v;
	uint64_t count;
	*nodes = NULL;
	*n = 0;
	int rc = call(c, dqc_enc_cluster(&c->tx, 1), DQC_RES_NODES, &r);
	if (rc < 0)
		return rc;
	if (dqc_dec_nodes_count(&r, &count) < 0)
		return malformed(c, "nodes");
	/* first pass checks and sizes; count is bounded by the message length */
	struct dqc_reader first = r;
	size_t strings = 0;
	for (uint64_t i = 0; i < count; i++) {
		if (dqc_dec_node_info(&r, 1, &v) < 0)
			return malformed(c, "nodes");
		strings += strlen(v.address) + 1;
	}
	struct dqc_node *out = malloc((size_t)count * sizeof(*out) + strings + 1);
	if (!out)
		return seterr(c, DQC_ENOMEM, "%s: out of memory", c->address);
	char *s = (char *)(out + count);
	r = first;
	for (uint64_t i = 0; i < count; i++) {
		dqc_dec_node_info(&r, 1, &v);
		size_t l = strlen(v.address) + 1;
		memcpy(s, v.address, l);
		out[i].id = v.id;
		out[i].address = s;
		out[i].role = v.role <= DQC_SPARE ? (int)v.role : -1;
		s += l;
	}
	*nodes = out;
	*n = (size_t)count;
	return 0;
}

static int call_empty(struct dqc_conn *c, int encoded)
{
	struct dqc_reader r;
	return call(c, encoded, DQC_RES_EMPTY, &r);
}

int dqc_add(struct dqc_conn *c, uint64_t id, const char *address)
{
	return call_empty(c, dqc_enc_add(&c->tx, id, address));
}

int dqc_assign(struct dqc_conn *c, uint64_t id, int role)
{
	if (role < DQC_VOTER || role > DQC_SPARE)
		return DQC_EINVAL;
	return call_empty(c, dqc_enc_assign(&c->tx, id, (uint64_t)role));
}

int dqc_remove(struct dqc_conn *c, uint64_t id) { return call_empty(c, dqc_enc_remove(&c->tx, id)); }

int dqc_transfer(struct dqc_conn *c, uint64_t id)
{
	return call_empty(c, dqc_enc_transfer(&c->tx, id));
}

int dqc_dump(struct dqc_conn *c, const char *name, dqc_file_fn fn, void *ctx)
{
	struct dqc_reader r;
	uint64_t count;
	int rc = call(c, dqc_enc_dump(&c->tx, name), DQC_RES_FILES, &r);
	if (rc < 0)
		return rc;
	if (dqc_dec_files_count(&r, &count) < 0)
		return malformed(c, "files");
	/* check the whole message before handing any of it out */
	struct dqc_reader first = r;
	const char *fname;
	const void *data;
	size_t len;
	for (uint64_t i = 0; i < count; i++)
		if (dqc_dec_file(&r, &fname, &data, &len) < 0)
			return malformed(c, "files");
	r = first;
	for (uint64_t i = 0; i < count; i++) {
		dqc_dec_file(&r, &fname, &data, &len);
		if (fn && fn(ctx, fname, data, len) != 0)
			return seterr(c, DQC_EABORT, "dump stopped by the caller");
	}
	return 0;
}

int dqc_connect_leader(const char *const *addresses, size_t n, const struct dqc_opts *o,
		       struct dqc_conn **out)
{
	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		struct dqc_conn *c;
		char leader[ADDR_MAX];
		uint64_t id;
		if (dqc_connect(addresses[i], o, &c) < 0)
			continue;
		if (dqc_leader(c, &id, leader, sizeof(leader)) < 0 || leader[0] == 0) {
			dqc_close(c);
			continue;
		}
		if (strcmp(leader, addresses[i]) != 0) {
			/* follow the hint once; the named node must confirm it leads */
			dqc_close(c);
			char again[ADDR_MAX];
			if (dqc_connect(leader, o, &c) < 0)
				continue;
			if (dqc_leader(c, &id, again, sizeof(again)) < 0 || strcmp(again, leader)) {
				dqc_close(c);
				continue;
			}
		}
		if (dqc_client(c, o ? o->client_id : 0, NULL) < 0) {
			dqc_close(c);
			continue;
		}
		*out = c;
		return 0;
	}
	return DQC_ENOLEADER;
}

uint64_t dqc_server_code(const struct dqc_conn *c) { return c->code; }
const char *dqc_errmsg(const struct dqc_conn *c) { return c->err; }
const char *dqc_address(const struct dqc_conn *c) { return c->address; }
int dqc_is_broken(const struct dqc_conn *c) { return c->broken; }

int dqc_code_is_busy(uint64_t code)
{
	return (code & 0xff) == 5 /* SQLITE_BUSY */ || (code & 0xff) == 6 /* SQLITE_LOCKED */;
}

int dqc_code_is_not_leader(uint64_t code)
{
	/* SQLITE_IOERR_NOT_LEADER / _LEADERSHIP_LOST, and the codes of older servers */
	return code == (10 | (40 << 8)) || code == (10 | (41 << 8)) || code == (10 | (32 << 8)) ||
	       code == (10 | (33 << 8));
}

const char *dqc_strerror(int rc)
{
	switch (rc) {
	case DQC_OK: return "ok";
	case DQC_ESERVER: return "server error";
	case DQC_ESYS: return "socket error";
	case DQC_ETIMEOUT: return "timed out";
	case DQC_ECLOSED: return "connection closed";
	case DQC_EPROTO: return "protocol error";
	case DQC_ETOOBIG: return "message too big";
	case DQC_ENOMEM: return "out of memory";
	case DQC_EINVAL: return "invalid argument";
	case DQC_ENOLEADER: return "no leader";
	case DQC_EBROKEN: return "connection broken";
	case DQC_EABORT: return "stopped by the caller";
	default: return "unknown error";
	}
}

const char *dqc_role_name(int role)
{
	switch (role) {
	case DQC_VOTER: return "voter";
	case DQC_STANDBY: return "stand-by";
	case DQC_SPARE: return "spare";
	default: return "unknown";
	}
}
