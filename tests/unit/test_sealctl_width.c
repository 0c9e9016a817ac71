/* sealctl's display width: what a terminal shows, not bytes. Compiled in
 * directly, like test_sealctl_csv, since it lives in the sealctl program. */
#include "../../bridge/ctl/ctl_width.c"

#include <stdlib.h>

#include "check.h"

static void test_ascii_is_one_column_a_byte(void)
{
	CHECK(ctl_display_width("") == 0);
	CHECK(ctl_display_width("3-2-1502") == 8);
}

static void test_chinese_door_label_is_two_columns_a_character(void)
{
	/* 新广路 号楼 单元: 7 wide characters; 3, 2, 1502: 6 narrow ones; 27 bytes. */
	const char *label = "新广路3号楼2单元1502";
	CHECK(strlen(label) == 27);
	CHECK(ctl_display_width(label) == 7 * 2 + 6);
}

static void test_invalid_utf8_counts_a_column_a_byte(void)
{
	CHECK(ctl_display_width("a\xff" "b") == 3);
	CHECK(ctl_display_width("\xe6\x96") == 2); /* a cut-off sequence */
	CHECK(ctl_display_width("\xed\xa0\x80") == 3); /* a surrogate is not UTF-8 */
}

static void test_even_under_the_c_locale(void)
{
	/* cron and bare ssh sessions run with LANG unset */
	setenv("LC_ALL", "C", 1);
	CHECK(ctl_display_width("单元") == 4);
}

static void test_padding_lines_columns_up(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CHECK(f != NULL);
	CHECK(ctl_print_padded(f, "新广路3号楼2单元1502", 22) == 0);
	fputs("|\n", f);
	CHECK(ctl_print_padded(f, "3-2-1502", 22) == 0);
	fputs("|\n", f);
	CHECK(ctl_print_padded(f, "longer than the column", 4) == 0);
	fputs("|\n", f);
	fclose(f);
	/* 20 columns + 2 spaces; 8 columns + 14 spaces; never cut */
	CHECK_STR(buf, "新广路3号楼2单元1502  |\n3-2-1502              |\nlonger than the column|\n");
	free(buf);
}

int main(void)
{
	RUN(test_even_under_the_c_locale); /* first: the locale is chosen once */
	RUN(test_ascii_is_one_column_a_byte);
	RUN(test_chinese_door_label_is_two_columns_a_character);
	RUN(test_invalid_utf8_counts_a_column_a_byte);
	RUN(test_padding_lines_columns_up);
	DONE();
}
