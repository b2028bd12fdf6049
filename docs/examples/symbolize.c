// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Symbolizes link-time addresses of a Go binary (stripped ones too) from its .gopclntab,
 * inline frames included, without running it.
 *
 * usage: symbolize BINARY HEX_ADDRESS...
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goprof/goprof.h>

static int print_frame(const struct goprof_frame *f, void *ctx)
{
	(void)ctx;
	printf("0x%" PRIx64 " %s%s %s:%u\n", f->addr, f->function,
	       f->frame_index + 1 < f->nframes ? " (inlined)" : "", f->file ? f->file : "?",
	       f->line);
	return 0;
}

int main(int argc, char **argv)
{
	struct goprof_binary *bin;
	uint64_t addrs[64];
	size_t n = 0;
	int err;

	if (argc < 3) {
		fprintf(stderr, "usage: %s BINARY HEX_ADDRESS...\n", argv[0]);
		return 2;
	}
	bin = goprof_binary_open(argv[1], NULL);
	if (!bin) {
		fprintf(stderr, "symbolize: %s\n", goprof_last_error());
		return 1;
	}
	printf("%s: %s\n", argv[1], goprof_binary_go_version(bin) ? goprof_binary_go_version(bin) : "not a Go binary");
	for (int i = 2; i < argc && n < 64; i++)
		addrs[n++] = strtoull(argv[i], NULL, 16);
	err = goprof_binary_symbolize(bin, addrs, n, print_frame, NULL);
	if (err < 0)
		fprintf(stderr, "symbolize: %s\n", goprof_last_error());
	goprof_binary_free(bin);
	return err < 0;
}
