/* Display width of UTF-8 text, for sealctl's aligned tables. */
#ifndef SB_CTL_WIDTH_H
#define SB_CTL_WIDTH_H

#include <stddef.h>
#include <stdio.h>

/* Terminal columns s takes (wcwidth per character; East Asian wide ones
 * take two). Invalid UTF-8 bytes and unprintable characters count one each. */
size_t ctl_display_width(const char *s);
/* Writes s and pads it with spaces to width columns; 0 or -1 on a write error. */
int ctl_print_padded(FILE *f, const char *s, size_t width);

#endif
