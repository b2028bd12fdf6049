// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* libFuzzer target: /proc/kallsyms text through the kernel symbol loader, then lookups. */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_memfd.h"
#include "sym/kallsyms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gp_kallsyms ks;
	char path[64];
	int fd = fuzz_memfd(data, size, path, sizeof(path));

	if (fd < 0)
		return 0;
	if (gp_kallsyms_load(&ks, path) == 0) {
		for (size_t i = 0; i < ks.n; i += 1 + ks.n / 64) {
			const struct gp_ksym *s = gp_kallsyms_find(&ks, ks.syms[i].addr + 1);

			if (s) /* names and modules must be NUL-terminated strings in the table */
				(void)(strlen(gp_ksym_name(&ks, s)) + strlen(gp_ksym_module(&ks, s)));
		}
		gp_kallsyms_find(&ks, 0);
		gp_kallsyms_find(&ks, UINT64_MAX);
		gp_kallsyms_free(&ks);
	}
	close(fd);
	return 0;
}
