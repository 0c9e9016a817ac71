/* sealctl's CSV reader and writer. The parser lives in the sealctl program,
 * not in bridge_core, so it is compiled into this test directly. */
#include "../../bridge/ctl/csv.c"

#include "check.h"

static struct csv_parser parser;
static struct csv_record rec;
static char err[CSV_ERR_MAX];

static void start(const char *s)
{
	csv_parser_init(&parser, s, strlen(s));
}

static int next(void)
{
	return csv_next(&parser, &rec, err);
}

static void test_plain_rows_with_crlf_and_bom(void)
{
	start("\xEF\xBB\xBFhousehold_id,end\r\nhh-1,+2h\r\nhh-2,1700000000");
	CHECK(next() == 1);
	CHECK(rec.count == 2 && rec.record == 1);
	CHECK_STR(rec.fields[0], "household_id");
	CHECK(next() == 1);
	CHECK_STR(rec.fields[0], "hh-1");
	CHECK_STR(rec.fields[1], "+2h");
	CHECK(next() == 1);
	CHECK(rec.record == 3 && rec.line == 3);
	CHECK_STR(rec.fields[1], "1700000000");
	CHECK(next() == 0);
	csv_record_release(&rec);
}

static void test_quoted_fields_with_commas_quotes_and_newlines(void)
{
	start("a,\"b, c\",\"say \"\"hi\"\"\",\"two\nlines\",,\"\"\nnext,row\n");
	CHECK(next() == 1);
	CHECK(rec.count == 6);
	CHECK_STR(rec.fields[0], "a");
	CHECK_STR(rec.fields[1], "b, c");
	CHECK_STR(rec.fields[2], "say \"hi\"");
	CHECK_STR(rec.fields[3], "two\nlines");
	CHECK_STR(rec.fields[4], "");
	CHECK_STR(rec.fields[5], "");
	CHECK(next() == 1);
	CHECK(rec.record == 2 && rec.line == 3); /* the quoted newline counts as a line */
	CHECK_STR(rec.fields[1], "row");
	CHECK(next() == 0);
	csv_record_release(&rec);
}

static void test_errors_name_the_record_and_parsing_goes_on(void)
{
	start("h1,h2\nok,1\nbad\"quote,2\n\"x\"y,3\nfine,4\n");
	CHECK(next() == 1);
	CHECK(next() == 1);
	CHECK(next() == -1);
	CHECK(rec.record == 3);
	CHECK(strstr(err, "line 3") != NULL && strstr(err, "quote") != NULL);
	CHECK(next() == -1);
	CHECK(rec.record == 4);
	CHECK(strstr(err, "after the closing quote") != NULL);
	CHECK(next() == 1);
	CHECK(rec.record == 5);
	CHECK_STR(rec.fields[0], "fine");
	CHECK_STR(rec.fields[1], "4");
	CHECK(next() == 0);
	csv_record_release(&rec);
}

static void test_unclosed_quote_and_too_many_fields(void)
{
	start("a,\"never closed\nmore\n");
	CHECK(next() == -1);
	CHECK(strstr(err, "not closed") != NULL && strstr(err, "line 1") != NULL);
	CHECK(next() == 0);

	char wide[CSV_MAX_FIELDS * 2 + 8];
	size_t n = 0;
	for (int i = 0; i <= CSV_MAX_FIELDS; i++) {
		wide[n++] = 'x';
		wide[n++] = ',';
	}
	wide[n - 1] = '\n';
	memcpy(wide + n, "y\n", 3);
	start(wide);
	CHECK(next() == -1);
	CHECK(strstr(err, "more than") != NULL);
	CHECK(next() == 1);
	CHECK_STR(rec.fields[0], "y");
	csv_record_release(&rec);
}

static void test_blank_lines(void)
{
	start("a,b\n\nc,d\n");
	CHECK(next() == 1 && !csv_record_blank(&rec));
	CHECK(next() == 1 && csv_record_blank(&rec));
	CHECK(next() == 1 && !csv_record_blank(&rec));
	CHECK(rec.record == 3);
	csv_record_release(&rec);
}

static void test_writer_round_trips_through_the_reader(void)
{
	const char *values[] = {"plain", "with, comma", "say \"hi\"", "two\nlines", " lead", "", "=1+2"};
	size_t nv = sizeof values / sizeof values[0];
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	REQUIRE(f != NULL);
	for (size_t i = 0; i < nv; i++) {
		if (i)
			fputc(',', f);
		CHECK(csv_write_field(f, values[i]) == 0);
	}
	fputc('\n', f);
	fclose(f);
	CHECK(strncmp(buf, "plain,\"with, comma\",\"say \"\"hi\"\"\",", 33) == 0);
	start(buf);
	CHECK(next() == 1);
	CHECK(rec.count == nv);
	for (size_t i = 0; i < nv; i++)
		CHECK_STR(rec.fields[i], values[i]);
	csv_record_release(&rec);
	free(buf);
}

static void test_cells_a_spreadsheet_would_run_are_text(void)
{
	const char *values[] = {"=1+2", "+1", "-1", "@SUM(A1)", "\tx", "plain", "a=b", "'quoted"};
	const char *want = "\"'=1+2\",\"'+1\",\"'-1\",\"'@SUM(A1)\",\"'\tx\",plain,a=b,'quoted\n";
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CHECK(f != NULL);
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		if (i)
			fputc(',', f);
		CHECK(csv_write_cell(f, values[i]) == 0);
	}
	fputc('\n', f);
	fclose(f);
	CHECK_STR(buf, want);
	/* and the reader gives back the text with its apostrophe */
	start(buf);
	CHECK(next() == 1);
	CHECK_STR(rec.fields[0], "'=1+2");
	CHECK_STR(rec.fields[2], "'-1");
	CHECK_STR(rec.fields[5], "plain");
	csv_record_release(&rec);
	free(buf);
}

int main(void)
{
	RUN(test_plain_rows_with_crlf_and_bom);
	RUN(test_quoted_fields_with_commas_quotes_and_newlines);
	RUN(test_errors_name_the_record_and_parsing_goes_on);
	RUN(test_unclosed_quote_and_too_many_fields);
	RUN(test_blank_lines);
	RUN(test_writer_round_trips_through_the_reader);
	RUN(test_cells_a_spreadsheet_would_run_are_text);
	DONE();
}
