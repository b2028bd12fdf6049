// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Terminal output without control characters: see term_text.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "term_text.h"

struct term_filter {
	int fd;
	bool pending_c2; /* a 0xc2 ended the last chunk: a C1 control may follow */
};

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static ssize_t filter_write(void *cookie, const char *buf, size_t n)
{
	struct term_filter *f = cookie;
	const unsigned char *s = (const unsigned char *)buf;
	char out[4096];
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (o + 2 > sizeof(out)) {
			if (write_all(f->fd, out, o))
				return -1;
			o = 0;
		}
		if (f->pending_c2) {
			f->pending_c2 = false;
			if (c >= 0x80 && c <= 0x9f) {
				out[o++] = '?'; /* a C1 control, e.g. U+009B (CSI) */
				continue;
			}
			out[o++] = (char)0xc2;
		}
		if (c == 0xc2) {
			f->pending_c2 = true;
			continue;
		}
		out[o++] = (c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f ?
			   '?' : (char)c;
	}
	if (o && write_all(f->fd, out, o))
		return -1;
	return (ssize_t)n;
}

static int filter_close(void *cookie)
{
	struct term_filter *f = cookie;

	if (f->pending_c2)
		write_all(f->fd, "\xc2", 1);
	free(f);
	return 0;
}

static FILE *filtered(FILE *orig, int fd, int mode)
{
	cookie_io_functions_t io = { .write = filter_write, .close = filter_close };
	struct term_filter *f;
	FILE *nf;

	if (!isatty(fd) || !(f = calloc(1, sizeof(*f))))
		return orig;
	f->fd = fd;
	nf = fopencookie(f, "w", io);
	if (!nf) {
		free(f);
		return orig;
	}
	setvbuf(nf, NULL, mode, 0);
	return nf;
}

void term_guard(void)
{
	fflush(stdout);
	fflush(stderr);
	stdout = filtered(stdout, STDOUT_FILENO, _IOLBF);
	stderr = filtered(stderr, STDERR_FILENO, _IONBF);
}
