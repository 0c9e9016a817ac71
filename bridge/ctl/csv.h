/* CSV (RFC 4180) reading and writing for sealctl's import and export.
 * Written here because Debian's C ecosystem has no CSV library worth a
 * dependency: the one packaged, libcsv 3.0.3 (LGPL), has had no upstream
 * release since 2013, and the job is this small file. */
#ifndef SB_CTL_CSV_H
#define SB_CTL_CSV_H

#include <stddef.h>
#include <stdio.h>

#define CSV_ERR_MAX 128
#define CSV_MAX_FIELDS 64

/* A parser over a caller-owned buffer; the buffer must outlive the parser. */
struct csv_parser {
	const char *buf;
	size_t len, pos;
	size_t line;   /* physical line at pos, from 1 */
	size_t record; /* records returned or rejected so far */
};

/* One record. Fields point into store, which the record owns. */
struct csv_record {
	char *fields[CSV_MAX_FIELDS];
	size_t count;
	size_t record; /* from 1, the header being record 1 */
	size_t line;   /* physical line the record starts on */
	char *store;
	size_t cap;
};

void csv_parser_init(struct csv_parser *p, const char *buf, size_t len);
/* 1: a record was read into rec; 0: end of input; -1: a syntax error in record
 * rec->record (err says what), the parser has skipped past it and can go on;
 * -2: out of memory. A UTF-8 byte order mark at the start is skipped. */
int csv_next(struct csv_parser *p, struct csv_record *rec, char err[CSV_ERR_MAX]);
/* True when the record is an empty line (one empty field). */
int csv_record_blank(const struct csv_record *rec);
void csv_record_release(struct csv_record *rec); /* frees store, keeps rec reusable */

/* Writes s as one field, quoted when it holds a comma, quote, CR or LF or
 * begins or ends with a space. NULL writes an empty field. 0 or -1 (I/O). */
int csv_write_field(FILE *f, const char *s);
/* csv_write_field() for a cell a person may open in a spreadsheet: one that
 * starts with =, +, -, @, a tab or a CR is written as text ('=... in quotes). */
int csv_write_cell(FILE *f, const char *s);

/* Reads a whole file ("-": standard input) of at most max_bytes into *out
 * (free() it; not NUL-terminated). 0, or -1 after an error line on stderr that
 * starts with "sealctl <verb>: ". */
int csv_read_file(const char *verb, const char *path, long max_bytes, char **out, size_t *len);

#endif
