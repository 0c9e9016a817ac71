/* Display width of UTF-8 text for sealctl's tables: a Chinese door label such
 * as 新广路3号楼2单元1502 takes two columns a character, so padding by bytes
 * (printf's %-*s) pushes every later column out of line. */
#define _XOPEN_SOURCE 700
#include "ctl_width.h"

#include <langinfo.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

/* wcwidth() answers from LC_CTYPE. What the daemon publishes is UTF-8 whatever
 * the terminal's locale, so a UTF-8 character table is needed even under "C"
 * (as in cron or a bare ssh session); Debian's glibc always has C.UTF-8. */
static void width_locale(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	if (!setlocale(LC_CTYPE, "") || strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		setlocale(LC_CTYPE, "C.UTF-8");
}

/* One UTF-8 sequence at s (n bytes left): its code point, or -1 when invalid;
 * *len is how many bytes it takes (1 for an invalid byte). */
static int32_t utf8_next(const unsigned char *s, size_t n, size_t *len)
{
	unsigned char c = s[0];
	int extra;
	int32_t cp, min;
	*len = 1;
	if (c < 0x80)
		return c;
	if ((c & 0xe0) == 0xc0)
		extra = 1, cp = c & 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		extra = 2, cp = c & 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		extra = 3, cp = c & 0x07, min = 0x10000;
	else
		return -1;
	if (n < (size_t)extra + 1)
		return -1;
	for (int i = 1; i <= extra; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = (size_t)extra + 1;
	return cp;
}

size_t ctl_display_width(const char *s)
{
	width_locale();
	size_t width = 0, n = strlen(s), len;
	const unsigned char *p = (const unsigned char *)s;
	while (n) {
		int32_t cp = utf8_next(p, n, &len);
		/* An invalid byte or an unprintable character still takes a column
		 * on most terminals (as a replacement sign). */
		int w = cp < 0 ? 1 : wcwidth((wchar_t)cp);
		width += w < 0 ? 1 : (size_t)w;
		p += len;
		n -= len;
	}
	return width;
}

int ctl_print_padded(FILE *f, const char *s, size_t width)
{
	size_t w = ctl_display_width(s);
	if (fputs(s, f) < 0)
		return -1;
	for (; w < width; w++)
		if (putc(' ', f) == EOF)
			return -1;
	return 0;
}
