/* A client for dqlite's wire protocol (version 1) over TCP: find the leader, open a
 * database, run SQL with bound parameters, read rows, list the group.
 *
 * The peer is not trusted: every length is checked against the message, messages are bounded
 * (opts.max_message), a result set is bounded in total (opts.max_result), and connect, read
 * and write each have a timeout. After an I/O or protocol error the connection is marked
 * broken (every later call returns DQC_EBROKEN): close it and connect again. A server
 * failure (DQC_ESERVER) and a stopped query (DQC_EABORT) leave it usable.
 *
 * One connection serves one request at a time; use one per thread. The server keeps an
 * explicit transaction (BEGIN ... COMMIT sent as separate EXEC_SQL requests) on the
 * connection that opened it. */
#ifndef SB_DQLITE_CLIENT_H
#define SB_DQLITE_CLIENT_H
#include "dqlite_wire.h"

#include <stddef.h>
#include <stdint.h>

struct dqc_opts {
	int connect_timeout_ms; /* TCP connect */
	int io_timeout_ms;      /* one request sent and its (first) response read */
	size_t max_message;     /* largest response body accepted */
	uint64_t max_result;    /* bytes of all the messages of one result set together */
	uint64_t client_id;     /* sent in CLIENT registration */
};

/* 2 s connect, 10 s per request, 16 MiB per message, 256 MiB per result set. */
void dqc_opts_default(struct dqc_opts *o);

struct dqc_conn;

/* Connect to "host:port" or "[v6addr]:port" and send the protocol version. Does not check
 * leadership: see dqc_connect_leader. */
int dqc_connect(const char *address, const struct dqc_opts *o, struct dqc_conn **out);
/* The same on an already connected stream socket (taken over: closed by dqc_close). */
int dqc_conn_from_fd(int fd, const char *address, const struct dqc_opts *o,
		     struct dqc_conn **out);
void dqc_close(struct dqc_conn *c);

/* Try each address: the node that is the leader, or the node it names as leader, is
 * connected, registered (CLIENT) and returned. DQC_ENOLEADER if none is or knows one. */
int dqc_connect_leader(const char *const *addresses, size_t n, const struct dqc_opts *o,
		       struct dqc_conn **out);

/* LEADER: the leader's id and address as this node knows it (id 0 and "" if none). */
int dqc_leader(struct dqc_conn *c, uint64_t *id, char *address, size_t address_size);
/* CLIENT registration; heartbeat_ms (may be NULL) is the server's heartbeat timeout. */
int dqc_client(struct dqc_conn *c, uint64_t id, uint64_t *heartbeat_ms);
/* OPEN a database by name (created if missing) in the replicated "volatile" VFS. */
int dqc_open(struct dqc_conn *c, const char *name, uint32_t *db);

struct dqc_result {
	uint64_t last_insert_id;
	uint64_t rows_affected;
};

/* The row callback: values point into the message buffer and are valid only during the
 * call. Return 0 to go on, anything else to stop (the rest is read and dropped; the query
 * then returns DQC_EABORT). */
struct dqc_row {
	unsigned ncols;
	const char *const *names;
	const struct dqc_value *values;
};
typedef int (*dqc_row_fn)(void *ctx, const struct dqc_row *row);

/* Parameters bind to the first statement of sql (the server runs the others without). */
int dqc_exec_sql(struct dqc_conn *c, uint32_t db, const char *sql,
		 const struct dqc_value *params, unsigned n, struct dqc_result *res);
int dqc_query_sql(struct dqc_conn *c, uint32_t db, const char *sql,
		  const struct dqc_value *params, unsigned n, dqc_row_fn fn, void *ctx);

/* Prepared statements: live on the server until dqc_finalize or the connection ends. */
int dqc_prepare(struct dqc_conn *c, uint32_t db, const char *sql, uint32_t *stmt,
		uint64_t *nparams);
int dqc_exec(struct dqc_conn *c, uint32_t db, uint32_t stmt, const struct dqc_value *params,
	     unsigned n, struct dqc_result *res);
int dqc_query(struct dqc_conn *c, uint32_t db, uint32_t stmt, const struct dqc_value *params,
	      unsigned n, dqc_row_fn fn, void *ctx);
int dqc_finalize(struct dqc_conn *c, uint32_t db, uint32_t stmt);

/* CLUSTER (format 1): the group's nodes as this node's Raft configuration has them.
 * *nodes is one allocation (addresses inside); free it with free(). */
struct dqc_node {
	uint64_t id;
	const char *address;
	int role; /* enum dqc_role */
};
int dqc_cluster(struct dqc_conn *c, struct dqc_node **nodes, size_t *n);

/* Group membership, on the leader (each waits until the change is committed): ADD a node
 * (it joins as a spare), ASSIGN it a role (enum dqc_role), REMOVE it, TRANSFER leadership to
 * a voter (id 0: the server picks one). */
int dqc_add(struct dqc_conn *c, uint64_t id, const char *address);
int dqc_assign(struct dqc_conn *c, uint64_t id, int role);
int dqc_remove(struct dqc_conn *c, uint64_t id);
int dqc_transfer(struct dqc_conn *c, uint64_t id);

/* DUMP: this node's own copy of the database (no leader needed): fn gets the database file
 * and its WAL ("<name>-wal"); data is valid during the call. A non-zero return stops and
 * gives DQC_EABORT. The dump comes in one message, so it is bounded by opts.max_message. */
typedef int (*dqc_file_fn)(void *ctx, const char *name, const void *data, size_t len);
int dqc_dump(struct dqc_conn *c, const char *name, dqc_file_fn fn, void *ctx);

/* After DQC_ESERVER: the server's code (SQLite's extended code) and message. After any
 * error dqc_errmsg says what happened. */
uint64_t dqc_server_code(const struct dqc_conn *c);
const char *dqc_errmsg(const struct dqc_conn *c);
const char *dqc_address(const struct dqc_conn *c);
int dqc_is_broken(const struct dqc_conn *c);

/* Server codes that mean "retry": busy/locked (the first write after a failover gets
 * "database is locked"), and "retry on the new leader": not leader / leadership lost. */
int dqc_code_is_busy(uint64_t code);
int dqc_code_is_not_leader(uint64_t code);
const char *dqc_strerror(int rc);
const char *dqc_role_name(int role);

#endif
