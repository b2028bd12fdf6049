// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * libFuzzer target: the public API as a host uses it on an untrusted file:
 * goprof_binary_open() by path, the metadata getters, goprof_binary_symbolize() on
 * function entries, inside functions and on addresses taken from the input (Go pclntab,
 * ELF symbols and DWARF lines of native code), function iteration.
 */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <goprof/symbolizer.h>

#include "fuzz_memfd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct walk {
	uint64_t pcs[48];
	size_t n, seen;
};

static int check_frame(const struct goprof_frame *f, void *ctx)
{
	/* Every string handed out must be readable. */
	(void)(strlen(f->function) + (f->file ? strlen(f->file) : 0) +
	       (f->module ? strlen(f->module) : 0));
	((struct walk *)ctx)->seen++;
	return 0;
}

static int take_function(const struct goprof_function *fn, void *ctx)
{
	struct walk *w = ctx;

	if (w->n + 2 > sizeof(w->pcs) / sizeof(w->pcs[0]))
		return 1;
	(void)(strlen(fn->name) + (fn->file ? strlen(fn->file) : 0));
	w->pcs[w->n++] = fn->entry;
	w->pcs[w->n++] = fn->entry + (fn->end - fn->entry) / 2;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct goprof_pclntab_info info = { .sz = sizeof(info) };
	struct walk w = { .n = 0 };
	struct goprof_binary *bin;
	uint8_t id[64];
	char path[64], buf[128];
	int fd = fuzz_memfd(data, size, path, sizeof(path));

	if (fd < 0)
		return 0;
	bin = goprof_binary_open(path, NULL);
	if (bin) {
		(void)goprof_binary_go_version(bin);
		(void)goprof_binary_go_build_id(bin);
		goprof_binary_pclntab_info(bin, &info);
		goprof_binary_go_build_info(bin, "vcs.revision", buf, sizeof(buf));
		goprof_binary_gnu_build_id(bin, id, sizeof(id));
		goprof_binary_foreach_function(bin, take_function, &w);
		for (size_t i = 0; size >= 8 && w.n < sizeof(w.pcs) / sizeof(w.pcs[0]); i++)
			memcpy(&w.pcs[w.n++], data + (i * 4099) % (size - 7), 8);
		goprof_binary_symbolize(bin, w.pcs, w.n, check_frame, &w);
		goprof_binary_free(bin);
	}
	close(fd);
	return 0;
}
