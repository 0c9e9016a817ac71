#include "csv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void csv_parser_init(struct csv_parser *p, const char *buf, size_t len)
{
	p->buf = buf;
	p->len = len;
	p->pos = 0;
	p->line = 1;
	p->record = 0;
	/* Spreadsheets write a byte order mark in front of UTF-8 CSV. */
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		p->pos = 3;
}

void csv_record_release(struct csv_record *rec)
{
	free(rec->store);
	rec->store = NULL;
	rec->cap = 0;
	rec->count = 0;
}

int csv_record_blank(const struct csv_record *rec)
{
	return rec->count == 1 && rec->fields[0][0] == '\0';
}

static int put(struct csv_record *rec, size_t *used, char c)
{
	if (*used == rec->cap) {
		size_t cap = rec->cap ? rec->cap * 2 : 256;
		char *s = realloc(rec->store, cap);
		if (!s)
			return -1;
		rec->store = s;
		rec->cap = cap;
	}
	rec->store[(*used)++] = c;
	return 0;
}

static void seterr(char err[CSV_ERR_MAX], const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void seterr(char err[CSV_ERR_MAX], const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, CSV_ERR_MAX, fmt, ap);
	va_end(ap);
}

/* After a syntax error the rest of the physical line belongs to the bad
 * record; the next record starts on the next line. */
static void skip_line(struct csv_parser *p)
{
	while (p->pos < p->len && p->buf[p->pos] != '\n')
		p->pos++;
	if (p->pos < p->len) {
		p->pos++;
		p->line++;
	}
}

/* Consumes a line end at pos (LF, CRLF or a lone CR); 1 if there was one. */
static int eat_newline(struct csv_parser *p)
{
	if (p->pos >= p->len)
		return 0;
	if (p->buf[p->pos] == '\n') {
		p->pos++;
		p->line++;
		return 1;
	}
	if (p->buf[p->pos] == '\r') {
		p->pos++;
		if (p->pos < p->len && p->buf[p->pos] == '\n')
			p->pos++;
		p->line++;
		return 1;
	}
	return 0;
}

int csv_next(struct csv_parser *p, struct csv_record *rec, char err[CSV_ERR_MAX])
{
	size_t offs[CSV_MAX_FIELDS];
	size_t used = 0;

	err[0] = '\0';
	rec->count = 0;
	if (p->pos >= p->len)
		return 0;
	rec->record = ++p->record;
	rec->line = p->line;

	for (;;) {
		if (rec->count == CSV_MAX_FIELDS) {
			seterr(err, "line %zu: more than %d fields", p->line, CSV_MAX_FIELDS);
			skip_line(p);
			return -1;
		}
		offs[rec->count++] = used;
		if (p->pos < p->len && p->buf[p->pos] == '"') {
			size_t open_line = p->line;
			p->pos++;
			for (;;) {
				if (p->pos >= p->len) {
					seterr(err, "line %zu: quoted field not closed", open_line);
					return -1;
				}
				char c = p->buf[p->pos++];
				if (c == '"') {
					if (p->pos < p->len && p->buf[p->pos] == '"') {
						p->pos++; /* a doubled quote is one quote */
					} else {
						break;
					}
				} else if (c == '\0') {
					seterr(err, "line %zu: NUL byte in a field", p->line);
					skip_line(p);
					return -1;
				} else if (c == '\n') {
					p->line++;
				}
				if (put(rec, &used, c) < 0)
					return -2;
			}
			if (p->pos < p->len && p->buf[p->pos] != ',' && p->buf[p->pos] != '\n' &&
			    p->buf[p->pos] != '\r') {
				seterr(err, "line %zu: text after the closing quote of a field", p->line);
				skip_line(p);
				return -1;
			}
		} else {
			while (p->pos < p->len) {
				char c = p->buf[p->pos];
				if (c == ',' || c == '\n' || c == '\r')
					break;
				if (c == '"') {
					seterr(err, "line %zu: quote inside an unquoted field (quote the whole field "
						    "and double the quote)", p->line);
					skip_line(p);
					return -1;
				}
				if (c == '\0') {
					seterr(err, "line %zu: NUL byte in a field", p->line);
					skip_line(p);
					return -1;
				}
				if (put(rec, &used, c) < 0)
					return -2;
				p->pos++;
			}
		}
		if (put(rec, &used, '\0') < 0)
			return -2;
		if (p->pos < p->len && p->buf[p->pos] == ',') {
			p->pos++;
			continue;
		}
		eat_newline(p);
		break;
	}
	for (size_t i = 0; i < rec->count; i++)
		rec->fields[i] = rec->store + offs[i];
	return 1;
}

int csv_write_field(FILE *f, const char *s)
{
	if (!s || !*s)
		return 0;
	size_t n = strlen(s);
	int quote = strpbrk(s, ",\"\r\n") != NULL || s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' ||
		    s[n - 1] == '\t';
	if (!quote)
		return fputs(s, f) < 0 ? -1 : 0;
	if (putc('"', f) == EOF)
		return -1;
	for (; *s; s++) {
		if (*s == '"' && putc('"', f) == EOF)
			return -1;
		if (putc(*s, f) == EOF)
			return -1;
	}
	return putc('"', f) == EOF ? -1 : 0;
}

int csv_write_cell(FILE *f, const char *s)
{
	/* A spreadsheet runs a cell that starts with one of these as a formula
	 * (CSV injection); a leading apostrophe makes it text, and the quotes
	 * keep the apostrophe inside the field. */
	if (!s || !strchr("=+-@\t\r", s[0]) || !s[0])
		return csv_write_field(f, s);
	if (fputs("\"'", f) < 0)
		return -1;
	for (; *s; s++) {
		if (*s == '"' && putc('"', f) == EOF)
			return -1;
		if (putc(*s, f) == EOF)
			return -1;
	}
	return putc('"', f) == EOF ? -1 : 0;
}

int csv_read_file(const char *verb, const char *path, long max_bytes, char **out, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "sealctl %s: %s: %s\n", verb, path, strerror(errno));
		return -1;
	}
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	int rc = buf ? 0 : -1;
	while (rc == 0) {
		if (n == cap) {
			char *b = cap >= (size_t)max_bytes ? NULL : realloc(buf, cap * 2);
			if (!b) {
				fprintf(stderr, "sealctl %s: %s: larger than %ld MiB or out of memory\n", verb, path,
					max_bytes >> 20);
				rc = -1;
				break;
			}
			buf = b;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				fprintf(stderr, "sealctl %s: %s: %s\n", verb, path, strerror(errno));
				rc = -1;
			}
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (rc < 0) {
		if (!buf)
			fprintf(stderr, "sealctl %s: out of memory\n", verb);
		free(buf);
		return -1;
	}
	*out = buf;
	*len = n;
	return 0;
}
