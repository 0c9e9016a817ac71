/* dqlite wire protocol, version 1: pure encoding of requests and decoding of responses.
 * No I/O here, so every byte layout can be tested against hand-built buffers; the connection
 * logic is in dqlite_client.c. Layout (all little endian, everything in 8-byte words):
 *   header: uint32 words (body length / 8), uint8 type, uint8 schema, uint16 extra
 *   text:   bytes, a NUL, zero padding to the next word
 *   blob:   uint64 length, bytes, zero padding to the next word
 *   params: uint8 count, count uint8 types, padding to a word, then the values
 *   row:    4-bit type per column (low nibble first), padding to a word, then the values;
 *           a row set ends with a word of 0xff (done) or 0xee (more in the next message).
 * Servers in Debian bookworm (dqlite 1.11) know only schema 0 of the statement requests,
 * so at most 255 parameters are sent. */
#ifndef SB_DQLITE_WIRE_H
#define SB_DQLITE_WIRE_H
#include <stddef.h>
#include <stdint.h>

#define DQC_WORD 8
#define DQC_HEADER_SIZE 8
#define DQC_PROTOCOL_VERSION 1ULL
#define DQC_MAX_PARAMS 255
/* SQLite's own default limit (SQLITE_MAX_COLUMN); a peer claiming more is broken. */
#define DQC_MAX_COLUMNS 2000

enum dqc_rc {
	DQC_OK = 0,
	DQC_ESERVER = -1,  /* the server answered with a failure (code + message); link usable */
	DQC_ESYS = -2,     /* socket error (errno kept in the message) */
	DQC_ETIMEOUT = -3, /* connect, read or write took longer than its timeout */
	DQC_ECLOSED = -4,  /* the peer closed the connection */
	DQC_EPROTO = -5,   /* malformed or unexpected message */
	DQC_ETOOBIG = -6,  /* a message or result larger than the configured bound */
	DQC_ENOMEM = -7,
	DQC_EINVAL = -8,    /* bad argument (address, text with a NUL, too many params) */
	DQC_ENOLEADER = -9, /* no node of the list is or knows a leader */
	DQC_EBROKEN = -10,  /* an earlier error left the stream out of step; reconnect */
	DQC_EABORT = -11,   /* the row callback stopped the query; link usable */
};

enum dqc_request {
	DQC_REQ_LEADER = 0,
	DQC_REQ_CLIENT = 1,
	DQC_REQ_HEARTBEAT = 2,
	DQC_REQ_OPEN = 3,
	DQC_REQ_PREPARE = 4,
	DQC_REQ_EXEC = 5,
	DQC_REQ_QUERY = 6,
	DQC_REQ_FINALIZE = 7,
	DQC_REQ_EXEC_SQL = 8,
	DQC_REQ_QUERY_SQL = 9,
	DQC_REQ_INTERRUPT = 10,
	DQC_REQ_ADD = 12,
	DQC_REQ_ASSIGN = 13,
	DQC_REQ_REMOVE = 14,
	DQC_REQ_DUMP = 15,
	DQC_REQ_CLUSTER = 16,
	DQC_REQ_TRANSFER = 17,
};

enum dqc_response {
	DQC_RES_FAILURE = 0,
	DQC_RES_NODE = 1,
	DQC_RES_WELCOME = 2,
	DQC_RES_NODES = 3,
	DQC_RES_DB = 4,
	DQC_RES_STMT = 5,
	DQC_RES_RESULT = 6,
	DQC_RES_ROWS = 7,
	DQC_RES_EMPTY = 8,
	DQC_RES_FILES = 9,
};

/* Value types on the wire. UNIXTIME, ISO8601 and BOOLEAN come back for columns declared
 * DATETIME/DATE/TIMESTAMP or BOOLEAN; they are read like INTEGER, TEXT and INTEGER. */
enum dqc_type {
	DQC_INTEGER = 1,
	DQC_FLOAT = 2,
	DQC_TEXT = 3,
	DQC_BLOB = 4,
	DQC_NULL = 5,
	DQC_UNIXTIME = 9,
	DQC_ISO8601 = 10,
	DQC_BOOLEAN = 11,
};

enum dqc_role { DQC_VOTER = 0, DQC_STANDBY = 1, DQC_SPARE = 2 };

/* One parameter or column value. INTEGER/UNIXTIME/BOOLEAN use i, FLOAT uses f, TEXT/ISO8601
 * and BLOB use p and n (text: n bytes, NUL-terminated on decode). Decoded p points into the
 * message buffer. */
struct dqc_value {
	int type;
	int64_t i;
	double f;
	const void *p;
	size_t n;
};

/* Outgoing message under construction; grows up to max bytes. */
struct dqc_buf {
	uint8_t *data;
	size_t len, cap, max;
};

void dqc_buf_init(struct dqc_buf *b, size_t max);
void dqc_buf_free(struct dqc_buf *b);

/* Each encoder replaces b's content with one complete message (header + body).
 * Return 0, DQC_EINVAL (text with a NUL, > 255 params, unknown type), DQC_ETOOBIG or DQC_ENOMEM. */
int dqc_enc_leader(struct dqc_buf *b);
int dqc_enc_client(struct dqc_buf *b, uint64_t id);
int dqc_enc_open(struct dqc_buf *b, const char *name, uint64_t flags, const char *vfs);
int dqc_enc_prepare(struct dqc_buf *b, uint64_t db, const char *sql);
int dqc_enc_exec(struct dqc_buf *b, uint32_t db, uint32_t stmt, const struct dqc_value *params,
		 unsigned n);
int dqc_enc_query(struct dqc_buf *b, uint32_t db, uint32_t stmt, const struct dqc_value *params,
		  unsigned n);
int dqc_enc_finalize(struct dqc_buf *b, uint32_t db, uint32_t stmt);
int dqc_enc_exec_sql(struct dqc_buf *b, uint64_t db, const char *sql,
		     const struct dqc_value *params, unsigned n);
int dqc_enc_query_sql(struct dqc_buf *b, uint64_t db, const char *sql,
		      const struct dqc_value *params, unsigned n);
int dqc_enc_interrupt(struct dqc_buf *b, uint64_t db);
int dqc_enc_cluster(struct dqc_buf *b, uint64_t format);
int dqc_enc_add(struct dqc_buf *b, uint64_t id, const char *address);
int dqc_enc_assign(struct dqc_buf *b, uint64_t id, uint64_t role);
int dqc_enc_remove(struct dqc_buf *b, uint64_t id);
int dqc_enc_transfer(struct dqc_buf *b, uint64_t id);
int dqc_enc_dump(struct dqc_buf *b, const char *name);

struct dqc_header {
	uint32_t words;
	uint8_t type, schema;
	uint16_t extra;
};
void dqc_header_decode(const uint8_t raw[DQC_HEADER_SIZE], struct dqc_header *h);

/* Reads a response body. Every get checks the remaining length: a short or malformed body
 * gives DQC_EPROTO, never a read past the end. */
struct dqc_reader {
	const uint8_t *p;
	size_t len, off;
};
void dqc_reader_init(struct dqc_reader *r, const void *body, size_t len);
int dqc_get_u32(struct dqc_reader *r, uint32_t *v);
int dqc_get_u64(struct dqc_reader *r, uint64_t *v);
int dqc_get_text(struct dqc_reader *r, const char **s, size_t *n);
int dqc_get_blob(struct dqc_reader *r, const void **p, size_t *n);

int dqc_dec_failure(struct dqc_reader *r, uint64_t *code, const char **msg);
int dqc_dec_node(struct dqc_reader *r, uint64_t *id, const char **address);
int dqc_dec_welcome(struct dqc_reader *r, uint64_t *heartbeat_ms);
int dqc_dec_db(struct dqc_reader *r, uint32_t *id);
int dqc_dec_stmt(struct dqc_reader *r, uint32_t *db, uint32_t *id, uint64_t *params);
int dqc_dec_result(struct dqc_reader *r, uint64_t *last_insert_id, uint64_t *rows_affected);

/* CLUSTER response: dqc_dec_nodes_count, then count times dqc_dec_node_info (format 1 has
 * the role; format 0 gives role DQC_VOTER). count is checked against the body length. */
struct dqc_node_view {
	uint64_t id;
	const char *address;
	uint64_t role;
};
int dqc_dec_nodes_count(struct dqc_reader *r, uint64_t *count);
int dqc_dec_node_info(struct dqc_reader *r, uint64_t format, struct dqc_node_view *out);

/* FILES response (DUMP): dqc_dec_files_count, then count times dqc_dec_file: a name and the
 * raw bytes (a multiple of 8 on the wire, as a blob is laid out). */
int dqc_dec_files_count(struct dqc_reader *r, uint64_t *count);
int dqc_dec_file(struct dqc_reader *r, const char **name, const void **data, size_t *len);

/* ROWS response: dqc_dec_columns (count, bounded by DQC_MAX_COLUMNS and the body), the names
 * with dqc_get_text, then dqc_dec_row until it returns DQC_ROWS_DONE or DQC_ROWS_PART. */
enum { DQC_ROW = 1, DQC_ROWS_DONE = 2, DQC_ROWS_PART = 3 };
int dqc_dec_columns(struct dqc_reader *r, unsigned *ncols);
int dqc_dec_row(struct dqc_reader *r, unsigned ncols, struct dqc_value *vals);

#endif
