/* dqlite wire client: requests compared byte for byte with hand-built buffers, responses
 * decoded from hand-built buffers (every truncation of them must fail cleanly), and the
 * connection logic against a scripted peer on a socketpair (no network): failures, wrong
 * types, truncated and oversized messages, silence, multi-part row sets. */
#include "check.h"
#include "dqlite_client.h"

#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

/* A response builder of the test's own, so the decoder is not checked against the encoder. */
struct msg {
	uint8_t b[32768];
	size_t n;
};

static void m_u8(struct msg *m, uint8_t v)
{
	CHECK(m->n < sizeof(m->b));
	m->b[m->n++] = v;
}
static void m_u64(struct msg *m, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		m_u8(m, (uint8_t)(v >> (8 * i)));
}
static void m_u32(struct msg *m, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		m_u8(m, (uint8_t)(v >> (8 * i)));
}
static void m_pad(struct msg *m)
{
	while (m->n % 8)
		m_u8(m, 0);
}
static void m_text(struct msg *m, const char *s)
{
	CHECK(m->n + strlen(s) + 1 <= sizeof(m->b));
	memcpy(m->b + m->n, s, strlen(s) + 1);
	m->n += strlen(s) + 1;
	m_pad(m);
}
static void m_begin(struct msg *m) { m->n = 8; memset(m->b, 0, 8); }
static void m_end(struct msg *m, uint8_t type)
{
	uint32_t words = (uint32_t)((m->n - 8) / 8);
	for (int i = 0; i < 4; i++)
		m->b[i] = (uint8_t)(words >> (8 * i));
	m->b[4] = type;
}

static const uint8_t *body(const struct msg *m) { return m->b + 8; }
static size_t body_len(const struct msg *m) { return m->n - 8; }

static void test_leader_request(void)
{
	struct dqc_buf b;
	dqc_buf_init(&b, 1 << 20);
	CHECK(dqc_enc_leader(&b) == 0);
	const uint8_t want[16] = {1, 0, 0, 0, DQC_REQ_LEADER, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	CHECK(b.len == 16 && memcmp(b.data, want, 16) == 0);
	CHECK(dqc_enc_client(&b, 0x0102030405060708ULL) == 0);
	const uint8_t want2[16] = {1, 0, 0, 0, DQC_REQ_CLIENT, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1};
	CHECK(b.len == 16 && memcmp(b.data, want2, 16) == 0);
	dqc_buf_free(&b);
}

static void test_open_request(void)
{
	struct dqc_buf b;
	dqc_buf_init(&b, 1 << 20);
	CHECK(dqc_enc_open(&b, "test", 0, "volatile") == 0);
	/* "test\0" padded to one word, flags, "volatile\0" padded to two words */
	const uint8_t want[40] = {4, 0, 0, 0, DQC_REQ_OPEN, 0, 0, 0,  't', 'e', 's', 't', 0, 0,
				  0, 0, 0, 0, 0, 0, 0,	      0, 0, 0, 'v', 'o', 'l', 'a', 't', 'i',
				  'l', 'e', 0, 0, 0, 0, 0,    0, 0, 0};
	CHECK(b.len == 40 && memcmp(b.data, want, 40) == 0);
	/* a name of exactly 7 bytes fills one word with its NUL; 8 bytes need two */
	CHECK(dqc_enc_open(&b, "1234567", 0, "v") == 0 && b.len == 8 + 8 + 8 + 8);
	CHECK(dqc_enc_open(&b, "12345678", 0, "v") == 0 && b.len == 8 + 16 + 8 + 8);
	dqc_buf_free(&b);
}

static void test_exec_sql_params(void)
{
	struct dqc_buf b;
	dqc_buf_init(&b, 1 << 20);
	const uint8_t blob[3] = {0xde, 0xad, 0xbe};
	struct dqc_value p[5] = {
	    {.type = DQC_INTEGER, .i = -2},
	    {.type = DQC_FLOAT, .f = 1.5},
	    {.type = DQC_TEXT, .p = "hi", .n = 2},
	    {.type = DQC_BLOB, .p = blob, .n = 3},
	    {.type = DQC_NULL},
	};
	CHECK(dqc_enc_exec_sql(&b, 7, "SELECT ?", p, 5) == 0);
	const uint8_t want[88] = {
	    10, 0, 0, 0, DQC_REQ_EXEC_SQL, 0, 0, 0,				 /* header */
	    7, 0, 0, 0, 0, 0, 0, 0,						 /* db */
	    'S', 'E', 'L', 'E', 'C', 'T', ' ', '?', 0, 0, 0, 0, 0, 0, 0, 0,	 /* sql */
	    5, 1, 2, 3, 4, 5, 0, 0,						 /* count, types */
	    0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,			 /* -2 */
	    0, 0, 0, 0, 0, 0, 0xf8, 0x3f,					 /* 1.5 */
	    'h', 'i', 0, 0, 0, 0, 0, 0,						 /* text */
	    3, 0, 0, 0, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0, 0, 0, 0, 0,		 /* blob */
	    0, 0, 0, 0, 0, 0, 0, 0,						 /* null */
	};
	CHECK(b.len == 88 && memcmp(b.data, want, 88) == 0);

	/* no parameters: no tuple at all */
	CHECK(dqc_enc_query_sql(&b, 1, "SELECT 1", NULL, 0) == 0);
	CHECK(b.len == 8 + 8 + 16 && b.data[0] == 3 && b.data[4] == DQC_REQ_QUERY_SQL);

	/* the count byte and 7 types fill one word; 8 types need a second */
	struct dqc_value many[DQC_MAX_PARAMS + 1];
	for (unsigned i = 0; i <= DQC_MAX_PARAMS; i++)
		many[i] = (struct dqc_value){.type = DQC_INTEGER, .i = (int64_t)i};
	CHECK(dqc_enc_exec(&b, 1, 2, many, 7) == 0 && b.len == 8 + 8 + 8 + 7 * 8);
	CHECK(dqc_enc_exec(&b, 1, 2, many, 8) == 0 && b.len == 8 + 8 + 16 + 8 * 8);
	CHECK(b.data[16] == 8 && b.data[24] == DQC_INTEGER && b.data[25] == 0);
	CHECK(dqc_enc_exec(&b, 1, 2, many, DQC_MAX_PARAMS) == 0);
	CHECK(dqc_enc_exec(&b, 1, 2, many, DQC_MAX_PARAMS + 1) == DQC_EINVAL);

	/* what the wire cannot carry is refused, not truncated */
	struct dqc_value bad = {.type = DQC_TEXT, .p = "a\0b", .n = 3};
	CHECK(dqc_enc_exec_sql(&b, 1, "SELECT ?", &bad, 1) == DQC_EINVAL);
	bad = (struct dqc_value){.type = 7};
	CHECK(dqc_enc_exec_sql(&b, 1, "SELECT ?", &bad, 1) == DQC_EINVAL);
	CHECK(dqc_enc_exec_sql(&b, 1, NULL, NULL, 0) == DQC_EINVAL);
	dqc_buf_free(&b);

	/* the bound on a request */
	dqc_buf_init(&b, 64);
	CHECK(dqc_enc_exec_sql(&b, 1, "SELECT 1", NULL, 0) == 0);
	char big[100];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	CHECK(dqc_enc_exec_sql(&b, 1, big, NULL, 0) == DQC_ETOOBIG);
	dqc_buf_free(&b);
}

static void test_finalize_cluster_interrupt(void)
{
	struct dqc_buf b;
	dqc_buf_init(&b, 1 << 20);
	CHECK(dqc_enc_finalize(&b, 3, 9) == 0);
	const uint8_t fin[16] = {1, 0, 0, 0, DQC_REQ_FINALIZE, 0, 0, 0, 3, 0, 0, 0, 9, 0, 0, 0};
	CHECK(b.len == 16 && memcmp(b.data, fin, 16) == 0);
	CHECK(dqc_enc_cluster(&b, 1) == 0 && b.len == 16 && b.data[4] == DQC_REQ_CLUSTER &&
	      b.data[8] == 1);
	CHECK(dqc_enc_interrupt(&b, 2) == 0 && b.data[4] == DQC_REQ_INTERRUPT && b.data[8] == 2);
	CHECK(dqc_enc_prepare(&b, 2, "SELECT 1") == 0 && b.len == 32 &&
	      b.data[4] == DQC_REQ_PREPARE);
	CHECK(dqc_enc_add(&b, 5, "h:1") == 0);
	const uint8_t add[24] = {2, 0, 0, 0, DQC_REQ_ADD, 0, 0, 0, 5, 0, 0, 0,
				 0, 0, 0, 0, 'h', ':', '1', 0, 0, 0, 0, 0};
	CHECK(b.len == 24 && memcmp(b.data, add, 24) == 0);
	CHECK(dqc_enc_assign(&b, 5, DQC_STANDBY) == 0);
	const uint8_t assign[24] = {2, 0, 0, 0, DQC_REQ_ASSIGN, 0, 0, 0, 5, 0, 0, 0,
				    0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
	CHECK(b.len == 24 && memcmp(b.data, assign, 24) == 0);
	CHECK(dqc_enc_remove(&b, 5) == 0 && b.len == 16 && b.data[4] == DQC_REQ_REMOVE &&
	      b.data[8] == 5);
	CHECK(dqc_enc_transfer(&b, 6) == 0 && b.len == 16 && b.data[4] == DQC_REQ_TRANSFER &&
	      b.data[8] == 6);
	CHECK(dqc_enc_dump(&b, "db") == 0 && b.len == 16 && b.data[4] == DQC_REQ_DUMP &&
	      b.data[8] == 'd' && b.data[10] == 0);
	dqc_buf_free(&b);
}

static void test_header_and_simple_responses(void)
{
	const uint8_t raw[8] = {0x02, 0x01, 0, 0, DQC_RES_ROWS, 1, 0x34, 0x12};
	struct dqc_header h;
	dqc_header_decode(raw, &h);
	CHECK(h.words == 0x102 && h.type == DQC_RES_ROWS && h.schema == 1 && h.extra == 0x1234);

	struct msg m;
	struct dqc_reader r;
	uint64_t code;
	const char *s;
	m_begin(&m);
	m_u64(&m, 5);
	m_text(&m, "database is locked");
	m_end(&m, DQC_RES_FAILURE);
	dqc_reader_init(&r, body(&m), body_len(&m));
	CHECK(dqc_dec_failure(&r, &code, &s) == 0 && code == 5);
	CHECK_STR(s, "database is locked");
	/* every truncation fails; none reads past the end (ASan would say so) */
	for (size_t cut = 0; cut < body_len(&m); cut++) {
		dqc_reader_init(&r, body(&m), cut);
		CHECK(dqc_dec_failure(&r, &code, &s) == DQC_EPROTO);
	}

	m_begin(&m);
	m_u64(&m, 42);
	m_text(&m, "127.0.0.1:9001");
	dqc_reader_init(&r, body(&m), body_len(&m));
	uint64_t id;
	CHECK(dqc_dec_node(&r, &id, &s) == 0 && id == 42);
	CHECK_STR(s, "127.0.0.1:9001");
	/* a NUL whose padding runs past the end */
	dqc_reader_init(&r, body(&m), 8 + 15);
	CHECK(dqc_dec_node(&r, &id, &s) == DQC_EPROTO);

	m_begin(&m);
	m_u32(&m, 3);
	m_u32(&m, 0);
	uint32_t db, stmt;
	dqc_reader_init(&r, body(&m), body_len(&m));
	CHECK(dqc_dec_db(&r, &db) == 0 && db == 3);
	m_begin(&m);
	m_u32(&m, 3);
	m_u32(&m, 11);
	m_u64(&m, 2);
	dqc_reader_init(&r, body(&m), body_len(&m));
	uint64_t np;
	CHECK(dqc_dec_stmt(&r, &db, &stmt, &np) == 0 && db == 3 && stmt == 11 && np == 2);
	m_begin(&m);
	m_u64(&m, 77);
	m_u64(&m, 1);
	dqc_reader_init(&r, body(&m), body_len(&m));
	uint64_t last, changes;
	CHECK(dqc_dec_result(&r, &last, &changes) == 0 && last == 77 && changes == 1);
	dqc_reader_init(&r, body(&m), 15);
	CHECK(dqc_dec_result(&r, &last, &changes) == DQC_EPROTO);
}

static void build_nodes(struct msg *m, uint64_t count)
{
	m_begin(m);
	m_u64(m, count);
	m_u64(m, 1);
	m_text(m, "127.0.0.1:9001");
	m_u64(m, DQC_VOTER);
	m_u64(m, 0xabcdef);
	m_text(m, "[::1]:9002");
	m_u64(m, DQC_SPARE);
	m_end(m, DQC_RES_NODES);
}

static void test_nodes(void)
{
	struct msg m;
	struct dqc_reader r;
	struct dqc_node_view v;
	uint64_t n;
	build_nodes(&m, 2);
	dqc_reader_init(&r, body(&m), body_len(&m));
	CHECK(dqc_dec_nodes_count(&r, &n) == 0 && n == 2);
	CHECK(dqc_dec_node_info(&r, 1, &v) == 0 && v.id == 1 && v.role == DQC_VOTER);
	CHECK_STR(v.address, "127.0.0.1:9001");
	CHECK(dqc_dec_node_info(&r, 1, &v) == 0 && v.id == 0xabcdef && v.role == DQC_SPARE);
	CHECK_STR(v.address, "[::1]:9002");
	CHECK(dqc_dec_node_info(&r, 1, &v) == DQC_EPROTO);
	/* a count the body cannot hold is refused before anything is allocated for it */
	build_nodes(&m, UINT64_MAX / 2);
	dqc_reader_init(&r, body(&m), body_len(&m));
	CHECK(dqc_dec_nodes_count(&r, &n) == DQC_EPROTO);
}

/* Three columns (id INTEGER, name TEXT, data BLOB) and two rows, plus a row with a float,
 * a null and the time/boolean types in a five-column set. */
static void build_rows(struct msg *m, uint8_t marker)
{
	m_begin(m);
	m_u64(m, 3);
	m_text(m, "id");
	m_text(m, "name");
	m_text(m, "data");
	/* row 1: types 1,3 | 4 -> bytes 0x31 0x04, padded to a word */
	m_u8(m, 0x31);
	m_u8(m, 0x04);
	m_pad(m);
	m_u64(m, (uint64_t)-5);
	m_text(m, "Anna");
	m_u64(m, 2);
	m_u8(m, 0xca);
	m_u8(m, 0xfe);
	m_pad(m);
	/* row 2: integer, null, empty blob */
	m_u8(m, 0x51);
	m_u8(m, 0x04);
	m_pad(m);
	m_u64(m, 6);
	m_u64(m, 0);
	m_u64(m, 0);
	for (int i = 0; i < 8; i++)
		m_u8(m, marker);
	m_end(m, DQC_RES_ROWS);
}

static void test_rows(void)
{
	struct msg m;
	struct dqc_reader r;
	struct dqc_value v[3];
	unsigned ncols;
	const char *name;
	build_rows(&m, 0xff);
	dqc_reader_init(&r, body(&m), body_len(&m));
	CHECK(dqc_dec_columns(&r, &ncols) == 0 && ncols == 3);
	const char *want[3] = {"id", "name", "data"};
	for (unsigned i = 0; i < 3; i++) {
		CHECK(dqc_get_text(&r, &name, NULL) == 0);
		CHECK_STR(name, want[i]);
	}
	CHECK(dqc_dec_row(&r, 3, v) == DQC_ROW);
	CHECK(v[0].type == DQC_INTEGER && v[0].i == -5);
	CHECK(v[1].type == DQC_TEXT && v[1].n == 4 && memcmp(v[1].p, "Anna", 5) == 0);
	CHECK(v[2].type == DQC_BLOB && v[2].n == 2 && memcmp(v[2].p, "\xca\xfe", 2) == 0);
	CHECK(dqc_dec_row(&r, 3, v) == DQC_ROW);
	CHECK(v[0].i == 6 && v[1].type == DQC_NULL && v[2].type == DQC_BLOB && v[2].n == 0);
	CHECK(dqc_dec_row(&r, 3, v) == DQC_ROWS_DONE);

	build_rows(&m, 0xee);
	dqc_reader_init(&r, body(&m), body_len(&m));
	CHECK(dqc_dec_columns(&r, &ncols) == 0);
	for (unsigned i = 0; i < 3; i++)
		CHECK(dqc_get_text(&r, &name, NULL) == 0);
	CHECK(dqc_dec_row(&r, 3, v) == DQC_ROW && dqc_dec_row(&r, 3, v) == DQC_ROW);
	CHECK(dqc_dec_row(&r, 3, v) == DQC_ROWS_PART);

	/* every truncation of the set is an error at some point, never a read past the end */
	build_rows(&m, 0xff);
	for (size_t cut = 0; cut < body_len(&m); cut++) {
		dqc_reader_init(&r, body(&m), cut);
		int rc = dqc_dec_columns(&r, &ncols);
		for (unsigned i = 0; rc == 0 && i < ncols; i++)
			rc = dqc_get_text(&r, &name, NULL);
		while (rc == 0 || rc == DQC_ROW)
			rc = dqc_dec_row(&r, ncols, v);
		CHECK(rc == DQC_EPROTO);
	}

	/* an unknown type nibble, a marker that is not the last word, a bad marker word */
	build_rows(&m, 0xff);
	m.b[8 + 32] = 0x37;
	dqc_reader_init(&r, body(&m), body_len(&m));
	dqc_dec_columns(&r, &ncols);
	for (unsigned i = 0; i < 3; i++)
		dqc_get_text(&r, &name, NULL);
	CHECK(dqc_dec_row(&r, 3, v) == DQC_EPROTO);
	struct msg t;
	m_begin(&t);
	m_u64(&t, 1);
	m_text(&t, "x");
	for (int i = 0; i < 16; i++)
		m_u8(&t, 0xff);
	dqc_reader_init(&r, body(&t), body_len(&t));
	dqc_dec_columns(&r, &ncols);
	dqc_get_text(&r, &name, NULL);
	CHECK(dqc_dec_row(&r, 1, v) == DQC_EPROTO);
	m_begin(&t);
	m_u64(&t, 1);
	m_text(&t, "x");
	m_u64(&t, 0x00ffffffffffffffULL);
	dqc_reader_init(&r, body(&t), body_len(&t));
	dqc_dec_columns(&r, &ncols);
	dqc_get_text(&r, &name, NULL);
	CHECK(dqc_dec_row(&r, 1, v) == DQC_EPROTO);

	/* column counts: zero, beyond SQLite's limit, beyond the body */
	m_begin(&t);
	m_u64(&t, 0);
	dqc_reader_init(&r, body(&t), body_len(&t));
	CHECK(dqc_dec_columns(&r, &ncols) == DQC_EPROTO);
	m_begin(&t);
	m_u64(&t, DQC_MAX_COLUMNS + 1);
	for (int i = 0; i < DQC_MAX_COLUMNS + 1; i++)
		m_u64(&t, 0);
	dqc_reader_init(&r, body(&t), body_len(&t));
	CHECK(dqc_dec_columns(&r, &ncols) == DQC_EPROTO);
	m_begin(&t);
	m_u64(&t, 3);
	m_u64(&t, 0);
	dqc_reader_init(&r, body(&t), body_len(&t));
	CHECK(dqc_dec_columns(&r, &ncols) == DQC_EPROTO);
}

static void test_value_types(void)
{
	struct msg m;
	struct dqc_reader r;
	struct dqc_value v[5];
	unsigned ncols;
	const char *name;
	m_begin(&m);
	m_u64(&m, 5);
	for (int i = 0; i < 5; i++)
		m_text(&m, "c");
	/* float, unixtime | iso8601, boolean | null */
	m_u8(&m, 0x92);
	m_u8(&m, 0xba);
	m_u8(&m, 0x05);
	m_pad(&m);
	double f = -0.25;
	uint64_t bits;
	memcpy(&bits, &f, 8);
	m_u64(&m, bits);
	m_u64(&m, 1700000000);
	m_text(&m, "2026-12-03 14:00:00");
	m_u64(&m, 1);
	m_u64(&m, 0);
	for (int i = 0; i < 8; i++)
		m_u8(&m, 0xff);
	dqc_reader_init(&r, body(&m), body_len(&m));
	CHECK(dqc_dec_columns(&r, &ncols) == 0 && ncols == 5);
	for (int i = 0; i < 5; i++)
		CHECK(dqc_get_text(&r, &name, NULL) == 0);
	CHECK(dqc_dec_row(&r, 5, v) == DQC_ROW);
	CHECK(v[0].type == DQC_FLOAT && v[0].f == -0.25);
	CHECK(v[1].type == DQC_UNIXTIME && v[1].i == 1700000000);
	CHECK(v[2].type == DQC_ISO8601 && v[2].n == 19);
	CHECK(v[3].type == DQC_BOOLEAN && v[3].i == 1);
	CHECK(v[4].type == DQC_NULL);
	CHECK(dqc_dec_row(&r, 5, v) == DQC_ROWS_DONE);

	/* a blob length near 2^64 must not wrap the bound check */
	m_begin(&m);
	m_u64(&m, UINT64_MAX - 3);
	m_u64(&m, 0);
	const void *p;
	size_t n;
	dqc_reader_init(&r, body(&m), body_len(&m));
	CHECK(dqc_get_blob(&r, &p, &n) == DQC_EPROTO);
	/* text without a NUL */
	m_begin(&m);
	m_u64(&m, 0x4141414141414141ULL);
	dqc_reader_init(&r, body(&m), body_len(&m));
	CHECK(dqc_get_text(&r, &name, NULL) == DQC_EPROTO);
}

/* ---- the connection against a scripted peer ---- */

static struct dqc_conn *peer_conn(int *peer, int io_ms, size_t max_message)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	struct dqc_opts o;
	dqc_opts_default(&o);
	o.io_timeout_ms = io_ms;
	if (max_message)
		o.max_message = max_message;
	struct dqc_conn *c;
	CHECK(dqc_conn_from_fd(sv[0], "peer:1", &o, &c) == 0);
	uint8_t v[8];
	CHECK(read(sv[1], v, 8) == 8);
	const uint8_t one[8] = {1, 0, 0, 0, 0, 0, 0, 0};
	CHECK(memcmp(v, one, 8) == 0); /* the handshake: protocol version 1 */
	*peer = sv[1];
	return c;
}

static void peer_send(int fd, const struct msg *m)
{
	CHECK(write(fd, m->b, m->n) == (ssize_t)m->n);
}

/* Read one request from the peer side and check its type. */
static void peer_expect(int fd, uint8_t type)
{
	uint8_t h[8], b[4096];
	CHECK(read(fd, h, 8) == 8);
	CHECK(h[4] == type);
	size_t len = (size_t)(h[0] | h[1] << 8) * 8;
	CHECK(len <= sizeof(b));
	size_t got = 0;
	while (got < len) {
		ssize_t r = read(fd, b + got, len - got);
		CHECK(r > 0);
		got += (size_t)r;
	}
}

static void test_conn_leader_and_failure(void)
{
	int peer;
	struct dqc_conn *c = peer_conn(&peer, 2000, 0);
	struct msg m;
	m_begin(&m);
	m_u64(&m, 2);
	m_text(&m, "127.0.0.1:9002");
	m_end(&m, DQC_RES_NODE);
	peer_send(peer, &m);
	uint64_t id;
	char addr[64];
	CHECK(dqc_leader(c, &id, addr, sizeof(addr)) == 0 && id == 2);
	CHECK_STR(addr, "127.0.0.1:9002");
	peer_expect(peer, DQC_REQ_LEADER);
	/* an address longer than the caller's room is an error, not a cut address */
	peer_send(peer, &m);
	CHECK(dqc_leader(c, &id, addr, 8) == DQC_EPROTO);
	peer_expect(peer, DQC_REQ_LEADER);
	dqc_close(c);
	close(peer);

	/* a server failure carries code and message and leaves the link usable */
	c = peer_conn(&peer, 2000, 0);
	m_begin(&m);
	m_u64(&m, 5);
	m_text(&m, "database is locked");
	m_end(&m, DQC_RES_FAILURE);
	peer_send(peer, &m);
	struct dqc_value p = {.type = DQC_INTEGER, .i = 1};
	CHECK(dqc_exec_sql(c, 0, "INSERT INTO t VALUES (?)", &p, 1, NULL) == DQC_ESERVER);
	CHECK(dqc_server_code(c) == 5 && dqc_code_is_busy(dqc_server_code(c)));
	CHECK(!dqc_code_is_not_leader(5) && dqc_code_is_not_leader(10 | (40 << 8)));
	CHECK_STR(dqc_errmsg(c), "database is locked");
	CHECK(!dqc_is_broken(c));
	peer_expect(peer, DQC_REQ_EXEC_SQL);
	m_begin(&m);
	m_u64(&m, 9);
	m_u64(&m, 1);
	m_end(&m, DQC_RES_RESULT);
	peer_send(peer, &m);
	struct dqc_result res;
	CHECK(dqc_exec_sql(c, 0, "INSERT INTO t VALUES (1)", NULL, 0, &res) == 0);
	CHECK(res.last_insert_id == 9 && res.rows_affected == 1 && dqc_server_code(c) == 0);
	peer_expect(peer, DQC_REQ_EXEC_SQL);

	/* the peer's text reaches logs: control bytes are replaced */
	m_begin(&m);
	m_u64(&m, 1);
	m_text(&m, "bad\n\x1b[31mred\x7f");
	m_end(&m, DQC_RES_FAILURE);
	peer_send(peer, &m);
	CHECK(dqc_exec_sql(c, 0, "SELECT 1", NULL, 0, NULL) == DQC_ESERVER);
	CHECK_STR(dqc_errmsg(c), "bad??[31mred?");
	peer_expect(peer, DQC_REQ_EXEC_SQL);

	/* a request that cannot be encoded is refused before anything is sent */
	struct dqc_value bad = {.type = DQC_TEXT, .p = "a\0b", .n = 3};
	CHECK(dqc_exec_sql(c, 0, "SELECT ?", &bad, 1, NULL) == DQC_EINVAL && !dqc_is_broken(c));

	/* the wrong response type breaks the link: the stream is out of step */
	m_begin(&m);
	m_u32(&m, 1);
	m_u32(&m, 0);
	m_end(&m, DQC_RES_DB);
	peer_send(peer, &m);
	CHECK(dqc_exec_sql(c, 0, "SELECT 1", NULL, 0, NULL) == DQC_EPROTO && dqc_is_broken(c));
	CHECK(dqc_exec_sql(c, 0, "SELECT 1", NULL, 0, NULL) == DQC_EBROKEN);
	dqc_close(c);
	close(peer);
}

static void test_conn_hostile(void)
{
	int peer;
	struct msg m;
	uint64_t id;
	char addr[64];

	/* silence: the read times out */
	struct dqc_conn *c = peer_conn(&peer, 150, 0);
	CHECK(dqc_leader(c, &id, addr, sizeof(addr)) == DQC_ETIMEOUT && dqc_is_broken(c));
	dqc_close(c);
	close(peer);

	/* a truncated message, then the peer hangs up */
	c = peer_conn(&peer, 2000, 0);
	m_begin(&m);
	m_u64(&m, 2);
	m_text(&m, "127.0.0.1:9002");
	m_end(&m, DQC_RES_NODE);
	CHECK(write(peer, m.b, m.n - 5) == (ssize_t)(m.n - 5));
	shutdown(peer, SHUT_WR);
	CHECK(dqc_leader(c, &id, addr, sizeof(addr)) == DQC_ECLOSED);
	dqc_close(c);
	close(peer);

	/* a header claiming 32 GiB: refused before anything is allocated */
	c = peer_conn(&peer, 2000, 1 << 16);
	const uint8_t huge[8] = {0xff, 0xff, 0xff, 0xff, DQC_RES_NODE, 0, 0, 0};
	CHECK(write(peer, huge, 8) == 8);
	CHECK(dqc_leader(c, &id, addr, sizeof(addr)) == DQC_ETOOBIG && dqc_is_broken(c));
	dqc_close(c);
	close(peer);

	/* a node list whose count is a lie */
	c = peer_conn(&peer, 2000, 0);
	build_nodes(&m, 1000);
	peer_send(peer, &m);
	struct dqc_node *nodes;
	size_t n;
	CHECK(dqc_cluster(c, &nodes, &n) == DQC_EPROTO && nodes == NULL && n == 0);
	dqc_close(c);
	close(peer);

	/* a node list as it should be */
	c = peer_conn(&peer, 2000, 0);
	build_nodes(&m, 2);
	peer_send(peer, &m);
	CHECK(dqc_cluster(c, &nodes, &n) == 0 && n == 2);
	CHECK(nodes[0].id == 1 && nodes[0].role == DQC_VOTER && nodes[1].role == DQC_SPARE);
	CHECK_STR(nodes[0].address, "127.0.0.1:9001");
	CHECK_STR(nodes[1].address, "[::1]:9002");
	CHECK_STR(dqc_role_name(nodes[1].role), "spare");
	free(nodes);
	peer_expect(peer, DQC_REQ_CLUSTER);
	dqc_close(c);
	close(peer);

	/* addresses that are not host:port are refused without a connection attempt */
	struct dqc_opts o;
	dqc_opts_default(&o);
	const char *bad[] = {"", "host", "host:", ":80", "host:0", "host:65536", "host:8a",
			     "[::1]9000", "[::1:9000", "host:123456"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(dqc_connect(bad[i], &o, &c) == DQC_EINVAL && c == NULL);
	}
}

struct count_ctx {
	int rows;
	int64_t sum;
	int stop_after;
};

static int count_row(void *ctx, const struct dqc_row *row)
{
	struct count_ctx *cc = ctx;
	cc->rows++;
	cc->sum += row->values[0].i;
	CHECK(row->ncols == 3);
	CHECK_STR(row->names[1], "name");
	return cc->stop_after && cc->rows >= cc->stop_after;
}

static void test_conn_rows(void)
{
	int peer;
	struct msg part, done;
	build_rows(&part, 0xee);
	build_rows(&done, 0xff);

	/* a set in three messages: the server sends the next part on its own */
	struct dqc_conn *c = peer_conn(&peer, 2000, 0);
	peer_send(peer, &part);
	peer_send(peer, &part);
	peer_send(peer, &done);
	struct count_ctx cc = {0};
	CHECK(dqc_query_sql(c, 0, "SELECT id, name, data FROM t", NULL, 0, count_row, &cc) == 0);
	CHECK(cc.rows == 6 && cc.sum == 3 * (-5 + 6));
	peer_expect(peer, DQC_REQ_QUERY_SQL);

	/* the caller stops after one row: the rest is drained and the link stays in step */
	peer_send(peer, &part);
	peer_send(peer, &done);
	cc = (struct count_ctx){.stop_after = 1};
	CHECK(dqc_query_sql(c, 0, "SELECT 1", NULL, 0, count_row, &cc) == DQC_EABORT);
	CHECK(cc.rows == 1 && !dqc_is_broken(c));
	peer_expect(peer, DQC_REQ_QUERY_SQL);

	/* a failure in the middle of a set (a step error) */
	struct msg fail;
	m_begin(&fail);
	m_u64(&fail, 11);
	m_text(&fail, "database disk image is malformed");
	m_end(&fail, DQC_RES_FAILURE);
	peer_send(peer, &part);
	peer_send(peer, &fail);
	cc = (struct count_ctx){0};
	CHECK(dqc_query_sql(c, 0, "SELECT 1", NULL, 0, count_row, &cc) == DQC_ESERVER);
	CHECK(dqc_server_code(c) == 11 && cc.rows == 2);
	peer_expect(peer, DQC_REQ_QUERY_SQL);

	/* a part followed by something that is not rows */
	struct msg res;
	m_begin(&res);
	m_u64(&res, 1);
	m_u64(&res, 1);
	m_end(&res, DQC_RES_RESULT);
	peer_send(peer, &part);
	peer_send(peer, &res);
	CHECK(dqc_query_sql(c, 0, "SELECT 1", NULL, 0, NULL, NULL) == DQC_EPROTO);
	dqc_close(c);
	close(peer);

	/* endless parts stop at the result bound */
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	struct dqc_opts o;
	dqc_opts_default(&o);
	o.max_result = 3 * part.n;
	CHECK(dqc_conn_from_fd(sv[0], "peer:1", &o, &c) == 0);
	for (int i = 0; i < 5; i++)
		peer_send(sv[1], &part);
	CHECK(dqc_query_sql(c, 0, "SELECT 1", NULL, 0, NULL, NULL) == DQC_ETOOBIG);
	dqc_close(c);
	close(sv[1]);
}

struct files_ctx {
	int n;
	size_t bytes;
	char names[2][16];
};

static int on_file(void *ctx, const char *name, const void *data, size_t len)
{
	struct files_ctx *fc = ctx;
	(void)data;
	if (fc->n < 2)
		snprintf(fc->names[fc->n], sizeof(fc->names[0]), "%s", name);
	fc->n++;
	fc->bytes += len;
	return 0;
}

static void test_dump(void)
{
	int peer;
	struct dqc_conn *c = peer_conn(&peer, 2000, 0);
	struct msg m;
	m_begin(&m);
	m_u64(&m, 2);
	m_text(&m, "db");
	m_u64(&m, 16);
	m_u64(&m, 0x1122334455667788ULL);
	m_u64(&m, 0);
	m_text(&m, "db-wal");
	m_u64(&m, 0);
	m_end(&m, DQC_RES_FILES);
	peer_send(peer, &m);
	struct files_ctx fc = {0};
	CHECK(dqc_dump(c, "db", on_file, &fc) == 0 && fc.n == 2 && fc.bytes == 16);
	CHECK_STR(fc.names[0], "db");
	CHECK_STR(fc.names[1], "db-wal");
	peer_expect(peer, DQC_REQ_DUMP);
	/* a file length past the message: nothing is handed out */
	m.b[8 + 8 + 8] = 0xff;
	m.b[8 + 8 + 8 + 1] = 0xff;
	peer_send(peer, &m);
	fc = (struct files_ctx){0};
	CHECK(dqc_dump(c, "db", on_file, &fc) == DQC_EPROTO && fc.n == 0);
	dqc_close(c);
	close(peer);

	c = peer_conn(&peer, 2000, 0);
	m_begin(&m);
	m_u64(&m, 0);
	m_end(&m, DQC_RES_EMPTY);
	peer_send(peer, &m);
	CHECK(dqc_transfer(c, 2) == 0);
	peer_expect(peer, DQC_REQ_TRANSFER);
	CHECK(dqc_assign(c, 2, 7) == DQC_EINVAL && !dqc_is_broken(c));
	m_begin(&m);
	m_u64(&m, 0x12);
	m_text(&m, "not leader");
	m_end(&m, DQC_RES_FAILURE);
	peer_send(peer, &m);
	CHECK(dqc_add(c, 9, "127.0.0.1:1") == DQC_ESERVER && dqc_server_code(c) == 0x12);
	dqc_close(c);
	close(peer);
}

static void test_prepared(void)
{
	int peer;
	struct dqc_conn *c = peer_conn(&peer, 2000, 0);
	struct msg m;
	m_begin(&m);
	m_u32(&m, 1);
	m_u32(&m, 4);
	m_u64(&m, 2);
	m_end(&m, DQC_RES_STMT);
	peer_send(peer, &m);
	uint32_t stmt;
	uint64_t np;
	CHECK(dqc_prepare(c, 1, "INSERT INTO t VALUES (?, ?)", &stmt, &np) == 0);
	CHECK(stmt == 4 && np == 2);
	peer_expect(peer, DQC_REQ_PREPARE);
	m_begin(&m);
	m_u64(&m, 0);
	m_end(&m, DQC_RES_EMPTY);
	peer_send(peer, &m);
	CHECK(dqc_finalize(c, 1, stmt) == 0);
	peer_expect(peer, DQC_REQ_FINALIZE);
	dqc_close(c);
	close(peer);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void mutate(struct msg *m, const struct msg *orig)
{
	*m = *orig;
	int edits = 1 + (int)(next_rand() % 4);
	for (int e = 0; e < edits && m->n > 8; e++) {
		size_t at = 8 + next_rand() % (m->n - 8);
		switch (next_rand() % 4) {
		case 0: m->b[at] = (uint8_t)next_rand(); break;
		case 1: m->b[at] ^= (uint8_t)(1u << (next_rand() % 8)); break;
		case 2: m->b[at] = (uint8_t[]){0, 0xff, 0xee, 0x80}[next_rand() % 4]; break;
		default: m->n = at; break; /* truncate */
		}
	}
	m->n -= (m->n - 8) % 8; /* bodies are whole words */
	m_end(m, orig->b[4]);
}

/* Decode a whole rows body the way the client does; only clean results are allowed. */
static int decode_all_rows(const struct msg *m)
{
	struct dqc_reader r;
	struct dqc_value v[DQC_MAX_COLUMNS];
	const char *name;
	unsigned ncols;
	dqc_reader_init(&r, body(m), body_len(m));
	int rc = dqc_dec_columns(&r, &ncols);
	for (unsigned i = 0; rc == 0 && i < ncols; i++)
		rc = dqc_get_text(&r, &name, NULL);
	while (rc == 0 || rc == DQC_ROW)
		rc = dqc_dec_row(&r, ncols, v);
	return rc;
}

/* Seeded random damage to valid messages: the decoders and the connection must answer with
 * a clean error or a clean result, never read outside the message (ASan checks) or hang. */
static void test_mutations(void)
{
	struct msg rows, nodes, fail, m;
	build_rows(&rows, 0xff);
	build_nodes(&nodes, 2);
	m_begin(&fail);
	m_u64(&fail, 1);
	m_text(&fail, "no such table: t");
	m_end(&fail, DQC_RES_FAILURE);
	int clean = 0;
	for (int it = 0; it < 20000; it++) {
		mutate(&m, &rows);
		int rc = decode_all_rows(&m);
		CHECK(rc == DQC_ROWS_DONE || rc == DQC_ROWS_PART || rc == DQC_EPROTO);
		clean += rc != DQC_EPROTO;
		struct dqc_reader r;
		uint64_t n;
		struct dqc_node_view v;
		mutate(&m, &nodes);
		dqc_reader_init(&r, body(&m), body_len(&m));
		rc = dqc_dec_nodes_count(&r, &n);
		for (uint64_t i = 0; rc == 0 && i < n; i++)
			rc = dqc_dec_node_info(&r, 1, &v);
		CHECK(rc == 0 || rc == DQC_EPROTO);
		uint64_t code;
		const char *msg;
		mutate(&m, &fail);
		dqc_reader_init(&r, body(&m), body_len(&m));
		rc = dqc_dec_failure(&r, &code, &msg);
		CHECK(rc == 0 || rc == DQC_EPROTO);
	}
	CHECK(clean > 0); /* some damage leaves a valid set: the loop reached the row values */

	/* the connection's row path, header included, with the peer hanging up after it */
	for (int it = 0; it < 300; it++) {
		int peer;
		struct dqc_conn *c = peer_conn(&peer, 1000, 1 << 16);
		mutate(&m, &rows);
		if (it % 3 == 0) /* damage the header too */
			m.b[next_rand() % 8] = (uint8_t)next_rand();
		peer_send(peer, &m);
		shutdown(peer, SHUT_WR);
		struct count_ctx cc = {0};
		int rc = dqc_query_sql(c, 0, "SELECT 1", NULL, 0, NULL, &cc);
		CHECK(rc == 0 || rc == DQC_EPROTO || rc == DQC_ECLOSED || rc == DQC_ETOOBIG ||
		      rc == DQC_ESERVER);
		dqc_close(c);
		close(peer);
	}
}

int main(void)
{
	RUN(test_leader_request);
	RUN(test_open_request);
	RUN(test_exec_sql_params);
	RUN(test_finalize_cluster_interrupt);
	RUN(test_header_and_simple_responses);
	RUN(test_nodes);
	RUN(test_rows);
	RUN(test_value_types);
	RUN(test_conn_leader_and_failure);
	RUN(test_conn_hostile);
	RUN(test_conn_rows);
	RUN(test_prepared);
	RUN(test_dump);
	RUN(test_mutations);
	DONE();
}
