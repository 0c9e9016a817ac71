/* dqlite wire protocol v1: see dqlite_wire.h for the layout. */
#include "dqlite_wire.h"

#include <stdlib.h>
#include <string.h>

#define ROWS_DONE_BYTE 0xff
#define ROWS_PART_BYTE 0xee

static size_t pad8(size_t n) { return (n + (DQC_WORD - 1)) & ~(size_t)(DQC_WORD - 1); }

void dqc_buf_init(struct dqc_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void dqc_buf_free(struct dqc_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Room for n more bytes, zeroed (padding is then already in place). */
static uint8_t *buf_grow(struct dqc_buf *b, size_t n, int *err)
{
	if (*err)
		return NULL;
	if (n > b->max || b->len > b->max - n) {
		*err = DQC_ETOOBIG;
		return NULL;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap = cap > b->max / 2 ? b->max : cap * 2;
		uint8_t *d = realloc(b->data, cap);
		if (!d) {
			*err = DQC_ENOMEM;
			return NULL;
		}
		b->data = d;
		b->cap = cap;
	}
	uint8_t *p = b->data + b->len;
	memset(p, 0, n);
	b->len += n;
	return p;
}

static void le_put(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t le_get(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put_u64(struct dqc_buf *b, uint64_t v, int *err)
{
	uint8_t *p = buf_grow(b, 8, err);
	if (p)
		le_put(p, v, 8);
}

static void put_u32(struct dqc_buf *b, uint32_t v, int *err)
{
	uint8_t *p = buf_grow(b, 4, err);
	if (p)
		le_put(p, v, 4);
}

static void put_textn(struct dqc_buf *b, const char *s, size_t n, int *err)
{
	if (!*err && memchr(s, 0, n)) {
		*err = DQC_EINVAL; /* the wire's text ends at the first NUL */
		return;
	}
	uint8_t *p = n < SIZE_MAX - DQC_WORD ? buf_grow(b, pad8(n + 1), err) : NULL;
	if (p)
		memcpy(p, s, n);
	else if (!*err)
		*err = DQC_ETOOBIG;
}

static void put_text(struct dqc_buf *b, const char *s, int *err)
{
	if (!s && !*err)
		*err = DQC_EINVAL;
	if (!*err)
		put_textn(b, s, strlen(s), err);
}

static void put_blob(struct dqc_buf *b, const void *data, size_t n, int *err)
{
	put_u64(b, n, err);
	uint8_t *p = n < SIZE_MAX - DQC_WORD ? buf_grow(b, pad8(n), err) : NULL;
	if (p && n)
		memcpy(p, data, n);
	else if (!p && !*err)
		*err = DQC_ETOOBIG;
}

static int param_type_ok(int t)
{
	return t == DQC_INTEGER || t == DQC_FLOAT || t == DQC_TEXT || t == DQC_BLOB ||
	       t == DQC_NULL || t == DQC_UNIXTIME || t == DQC_ISO8601 || t == DQC_BOOLEAN;
}

/* Schema 0 tuple: no bytes at all when there are no parameters (what the servers expect). */
static void put_params(struct dqc_buf *b, const struct dqc_value *v, unsigned n, int *err)
{
	if (*err || n == 0)
		return;
	if (n > DQC_MAX_PARAMS || !v) {
		*err = DQC_EINVAL;
		return;
	}
	for (unsigned i = 0; i < n; i++)
		if (!param_type_ok(v[i].type) ||
		    ((v[i].type == DQC_TEXT || v[i].type == DQC_ISO8601 || v[i].type == DQC_BLOB) &&
		     !v[i].p && v[i].n)) {
			*err = DQC_EINVAL;
			return;
		}
	uint8_t *h = buf_grow(b, pad8(1 + n), err);
	if (!h)
		return;
	h[0] = (uint8_t)n;
	for (unsigned i = 0; i < n; i++)
		h[1 + i] = (uint8_t)v[i].type;
	for (unsigned i = 0; i < n && !*err; i++) {
		switch (v[i].type) {
		case DQC_INTEGER:
		case DQC_UNIXTIME:
			put_u64(b, (uint64_t)v[i].i, err);
			break;
		case DQC_BOOLEAN:
			put_u64(b, v[i].i != 0, err);
			break;
		case DQC_FLOAT: {
			uint64_t bits;
			memcpy(&bits, &v[i].f, sizeof(bits));
			put_u64(b, bits, err);
			break;
		}
		case DQC_TEXT:
		case DQC_ISO8601:
			put_textn(b, v[i].p ? v[i].p : "", v[i].n, err);
			break;
		case DQC_BLOB:
			put_blob(b, v[i].p, v[i].n, err);
			break;
		default: /* DQC_NULL */
			put_u64(b, 0, err);
			break;
		}
	}
}

static void begin(struct dqc_buf *b, int *err)
{
	b->len = 0;
	*err = 0;
	buf_grow(b, DQC_HEADER_SIZE, err);
}

static int finish(struct dqc_buf *b, uint8_t type, uint8_t schema, int err)
{
	if (err)
		return err;
	size_t body = b->len - DQC_HEADER_SIZE;
	if (body / DQC_WORD > UINT32_MAX)
		return DQC_ETOOBIG;
	le_put(b->data, body / DQC_WORD, 4);
	b->data[4] = type;
	b->data[5] = schema;
	le_put(b->data + 6, 0, 2);
	return 0;
}

int dqc_enc_leader(struct dqc_buf *b)
{
	int err;
	begin(b, &err);
	put_u64(b, 0, &err);
	return finish(b, DQC_REQ_LEADER, 0, err);
}

int dqc_enc_client(struct dqc_buf *b, uint64_t id)
{
	int err;
	begin(b, &err);
	put_u64(b, id, &err);
	return finish(b, DQC_REQ_CLIENT, 0, err);
}

int dqc_enc_open(struct dqc_buf *b, const char *name, uint64_t flags, const char *vfs)
{
	int err;
	begin(b, &err);
	put_text(b, name, &err);
	put_u64(b, flags, &err);
	put_text(b, vfs, &err);
	return finish(b, DQC_REQ_OPEN, 0, err);
}

int dqc_enc_prepare(struct dqc_buf *b, uint64_t db, const char *sql)
{
	int err;
	begin(b, &err);
	put_u64(b, db, &err);
	put_text(b, sql, &err);
	return finish(b, DQC_REQ_PREPARE, 0, err);
}

static int enc_stmt(struct dqc_buf *b, uint8_t type, uint32_t db, uint32_t stmt,
		    const struct dqc_value *params, unsigned n)
{
	int err;
	begin(b, &err);
	put_u32(b, db, &err);
	put_u32(b, stmt, &err);
	put_params(b, params, n, &err);
	return finish(b, type, 0, err);
}

int dqc_enc_exec(struct dqc_buf *b, uint32_t db, uint32_t stmt, const struct dqc_value *params,
		 unsigned n)
{
	return enc_stmt(b, DQC_REQ_EXEC, db, stmt, params, n);
}

int dqc_enc_query(struct dqc_buf *b, uint32_t db, uint32_t stmt, const struct dqc_value *params,
		  unsigned n)
{
	return enc_stmt(b, DQC_REQ_QUERY, db, stmt, params, n);
}

int dqc_enc_finalize(struct dqc_buf *b, uint32_t db, uint32_t stmt)
{
	return enc_stmt(b, DQC_REQ_FINALIZE, db, stmt, NULL, 0);
}

static int enc_sql(struct dqc_buf *b, uint8_t type, uint64_t db, const char *sql,
		   const struct dqc_value *params, unsigned n)
{
	int err;
	begin(b, &err);
	put_u64(b, db, &err);
	put_text(b, sql, &err);
	put_params(b, params, n, &err);
	return finish(b, type, 0, err);
}

int dqc_enc_exec_sql(struct dqc_buf *b, uint64_t db, const char *sql,
		     const struct dqc_value *params, unsigned n)
{
	return enc_sql(b, DQC_REQ_EXEC_SQL, db, sql, params, n);
}

int dqc_enc_query_sql(struct dqc_buf *b, uint64_t db, const char *sql,
		      const struct dqc_value *params, unsigned n)
{
	return enc_sql(b, DQC_REQ_QUERY_SQL, db, sql, params, n);
}

int dqc_enc_interrupt(struct dqc_buf *b, uint64_t db)
{
	int err;
	begin(b, &err);
	put_u64(b, db, &err);
	return finish(b, DQC_REQ_INTERRUPT, 0, err);
}

int dqc_enc_cluster(struct dqc_buf *b, uint64_t format)
{
	int err;
	begin(b, &err);
	put_u64(b, format, &err);
	return finish(b, DQC_REQ_CLUSTER, 0, err);
}

int dqc_enc_add(struct dqc_buf *b, uint64_t id, const char *address)
{
	int err;
	begin(b, &err);
	put_u64(b, id, &err);
	put_text(b, address, &err);
	return finish(b, DQC_REQ_ADD, 0, err);
}

static int enc_u64(struct dqc_buf *b, uint8_t type, uint64_t v)
{
	int err;
	begin(b, &err);
	put_u64(b, v, &err);
	return finish(b, type, 0, err);
}

int dqc_enc_assign(struct dqc_buf *b, uint64_t id, uint64_t role)
{
	int err;
	begin(b, &err);
	put_u64(b, id, &err);
	put_u64(b, role, &err);
	return finish(b, DQC_REQ_ASSIGN, 0, err);
}

int dqc_enc_remove(struct dqc_buf *b, uint64_t id) { return enc_u64(b, DQC_REQ_REMOVE, id); }
int dqc_enc_transfer(struct dqc_buf *b, uint64_t id) { return enc_u64(b, DQC_REQ_TRANSFER, id); }

int dqc_enc_dump(struct dqc_buf *b, const char *name)
{
	int err;
	begin(b, &err);
	put_text(b, name, &err);
	return finish(b, DQC_REQ_DUMP, 0, err);
}

void dqc_header_decode(const uint8_t raw[DQC_HEADER_SIZE], struct dqc_header *h)
{
	h->words = (uint32_t)le_get(raw, 4);
	h->type = raw[4];
	h->schema = raw[5];
	h->extra = (uint16_t)le_get(raw + 6, 2);
}

void dqc_reader_init(struct dqc_reader *r, const void *body, size_t len)
{
	r->p = body;
	r->len = len;
	r->off = 0;
}

static size_t left(const struct dqc_reader *r) { return r->len - r->off; }

int dqc_get_u32(struct dqc_reader *r, uint32_t *v)
{
	if (left(r) < 4)
		return DQC_EPROTO;
	*v = (uint32_t)le_get(r->p + r->off, 4);
	r->off += 4;
	return 0;
}

int dqc_get_u64(struct dqc_reader *r, uint64_t *v)
{
	if (left(r) < 8)
		return DQC_EPROTO;
	*v = le_get(r->p + r->off, 8);
	r->off += 8;
	return 0;
}

int dqc_get_text(struct dqc_reader *r, const char **s, size_t *n)
{
	const uint8_t *start = r->p + r->off;
	const uint8_t *nul = left(r) ? memchr(start, 0, left(r)) : NULL;
	if (!nul)
		return DQC_EPROTO;
	size_t len = (size_t)(nul - start);
	size_t span = pad8(len + 1);
	if (span > left(r))
		return DQC_EPROTO;
	*s = (const char *)start;
	if (n)
		*n = len;
	r->off += span;
	return 0;
}

int dqc_get_blob(struct dqc_reader *r, const void **p, size_t *n)
{
	uint64_t len;
	size_t save = r->off;
	if (dqc_get_u64(r, &len) < 0)
		return DQC_EPROTO;
	/* compare before padding so that a huge length cannot wrap */
	if (len > left(r) || pad8((size_t)len) > left(r)) {
		r->off = save;
		return DQC_EPROTO;
	}
	*p = r->p + r->off;
	*n = (size_t)len;
	r->off += pad8((size_t)len);
	return 0;
}

int dqc_dec_failure(struct dqc_reader *r, uint64_t *code, const char **msg)
{
	if (dqc_get_u64(r, code) < 0)
		return DQC_EPROTO;
	return dqc_get_text(r, msg, NULL);
}

int dqc_dec_node(struct dqc_reader *r, uint64_t *id, const char **address)
{
	if (dqc_get_u64(r, id) < 0)
		return DQC_EPROTO;
	return dqc_get_text(r, address, NULL);
}

int dqc_dec_welcome(struct dqc_reader *r, uint64_t *heartbeat_ms)
{
	return dqc_get_u64(r, heartbeat_ms);
}

int dqc_dec_db(struct dqc_reader *r, uint32_t *id)
{
	uint32_t unused;
	if (dqc_get_u32(r, id) < 0)
		return DQC_EPROTO;
	return dqc_get_u32(r, &unused);
}

int dqc_dec_stmt(struct dqc_reader *r, uint32_t *db, uint32_t *id, uint64_t *params)
{
	if (dqc_get_u32(r, db) < 0 || dqc_get_u32(r, id) < 0)
		return DQC_EPROTO;
	return dqc_get_u64(r, params);
}

int dqc_dec_result(struct dqc_reader *r, uint64_t *last_insert_id, uint64_t *rows_affected)
{
	if (dqc_get_u64(r, last_insert_id) < 0)
		return DQC_EPROTO;
	return dqc_get_u64(r, rows_affected);
}

int dqc_dec_nodes_count(struct dqc_reader *r, uint64_t *count)
{
	if (dqc_get_u64(r, count) < 0)
		return DQC_EPROTO;
	/* each node takes at least two words (id, address) */
	if (*count > left(r) / 16)
		return DQC_EPROTO;
	return 0;
}

int dqc_dec_node_info(struct dqc_reader *r, uint64_t format, struct dqc_node_view *out)
{
	out->role = DQC_VOTER;
	if (dqc_get_u64(r, &out->id) < 0 || dqc_get_text(r, &out->address, NULL) < 0)
		return DQC_EPROTO;
	if (format >= 1 && dqc_get_u64(r, &out->role) < 0)
		return DQC_EPROTO;
	return 0;
}

int dqc_dec_files_count(struct dqc_reader *r, uint64_t *count)
{
	if (dqc_get_u64(r, count) < 0)
		return DQC_EPROTO;
	/* a name word and a length word at least */
	if (*count > left(r) / 16)
		return DQC_EPROTO;
	return 0;
}

int dqc_dec_file(struct dqc_reader *r, const char **name, const void **data, size_t *len)
{
	if (dqc_get_text(r, name, NULL) < 0)
		return DQC_EPROTO;
	return dqc_get_blob(r, data, len);
}

int dqc_dec_columns(struct dqc_reader *r, unsigned *ncols)
{
	uint64_t n;
	if (dqc_get_u64(r, &n) < 0)
		return DQC_EPROTO;
	/* a column name takes at least one word; the server never sends zero columns */
	if (n == 0 || n > DQC_MAX_COLUMNS || n > left(r) / DQC_WORD)
		return DQC_EPROTO;
	*ncols = (unsigned)n;
	return 0;
}

static int get_value(struct dqc_reader *r, struct dqc_value *v)
{
	uint64_t w;
	switch (v->type) {
	case DQC_INTEGER:
	case DQC_UNIXTIME:
	case DQC_BOOLEAN:
		if (dqc_get_u64(r, &w) < 0)
			return DQC_EPROTO;
		v->i = (int64_t)w;
		return 0;
	case DQC_FLOAT:
		if (dqc_get_u64(r, &w) < 0)
			return DQC_EPROTO;
		memcpy(&v->f, &w, sizeof(v->f));
		return 0;
	case DQC_TEXT:
	case DQC_ISO8601: {
		const char *s;
		if (dqc_get_text(r, &s, &v->n) < 0)
			return DQC_EPROTO;
		v->p = s;
		return 0;
	}
	case DQC_BLOB:
		return dqc_get_blob(r, &v->p, &v->n);
	case DQC_NULL:
		return dqc_get_u64(r, &w);
	default:
		return DQC_EPROTO;
	}
}

int dqc_dec_row(struct dqc_reader *r, unsigned ncols, struct dqc_value *vals)
{
	if (left(r) < DQC_WORD)
		return DQC_EPROTO; /* a row set always ends with a marker word */
	const uint8_t *h = r->p + r->off;
	if (h[0] == ROWS_DONE_BYTE || h[0] == ROWS_PART_BYTE) {
		for (int i = 1; i < DQC_WORD; i++)
			if (h[i] != h[0])
				return DQC_EPROTO;
		if (left(r) != DQC_WORD)
			return DQC_EPROTO; /* the marker is the last word of the message */
		r->off += DQC_WORD;
		return h[0] == ROWS_DONE_BYTE ? DQC_ROWS_DONE : DQC_ROWS_PART;
	}
	size_t hsize = pad8((ncols + 1) / 2);
	if (ncols == 0 || hsize > left(r))
		return DQC_EPROTO;
	for (unsigned i = 0; i < ncols; i++) {
		memset(&vals[i], 0, sizeof(vals[i]));
		vals[i].type = (h[i / 2] >> (4 * (i % 2))) & 0x0f;
	}
	r->off += hsize;
	for (unsigned i = 0; i < ncols; i++)
		if (get_value(r, &vals[i]) < 0)
			return DQC_EPROTO;
	return DQC_ROW;
}
