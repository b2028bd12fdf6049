// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Symbolizer benchmark: PCs per second and open time of libgoprof on a large Go binary,
 * against Go's own `go tool addr2line` on the same PC list in the same run, and the
 * memory the symbolizer adds compared with the pclntab size.
 *
 * usage: symbolize_bench [BINARY [NPCS]]
 *   BINARY defaults to the largest Go binary found among a few candidates; NPCS to 200000.
 * Environment: GOPROF_BENCH_ADDR2LINE = path of Go's addr2line tool (default: newest
 * /usr/lib/go-X/pkg/tool/linux_amd64/addr2line).
 * Prints "ratio" lines; exits 1 if the targets (10x addr2line, open < 20 ms, memory <=
 * pclntab + 10%) are missed, so it can guard regressions.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <goprof/goprof.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtol(line + strlen(key) + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

struct funcs {
	uint64_t *entry, *end;
	size_t n, cap;
};

static int add_fn(const struct goprof_function *fn, void *ctx)
{
	struct funcs *f = ctx;

	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 4096;
		f->entry = realloc(f->entry, f->cap * sizeof(uint64_t));
		f->end = realloc(f->end, f->cap * sizeof(uint64_t));
	}
	f->entry[f->n] = fn->entry;
	f->end[f->n] = fn->end;
	f->n++;
	return 0;
}

static int count_cb(const struct goprof_frame *fr, void *ctx)
{
	(*(size_t *)ctx)++;
	return 0;
}

static const char *pick_binary(void)
{
	static const char *const cands[] = { "/usr/bin/anthoscli", "/usr/local/bin/terraform", "/usr/bin/kubectl",
					     "/usr/lib/go-1.23/pkg/tool/linux_amd64/compile" };
	const char *best = NULL;
	off_t best_sz = 0;

	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		struct stat st;

		if (stat(cands[i], &st) == 0 && st.st_size > best_sz) {
			best = cands[i];
			best_sz = st.st_size;
		}
	}
	return best;
}

static const char *pick_addr2line(void)
{
	static const char *const vers[] = { "1.23", "1.22", "1.21", "1.19" };
	static char path[256];
	const char *env = getenv("GOPROF_BENCH_ADDR2LINE");

	if (env)
		return env;
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "/usr/lib/go-%s/pkg/tool/linux_amd64/addr2line", vers[i]);
		if (access(path, X_OK) == 0)
			return path;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : pick_binary();
	size_t npcs = argc > 2 ? strtoul(argv[2], NULL, 10) : 200000, frames = 0;
	struct goprof_pclntab_info info = { .sz = sizeof(info) };
	struct goprof_binary *bin;
	struct funcs fs = { 0 };
	uint64_t *pcs, seed = 0x9e3779b97f4a7c15ull;
	double t0, t_open[9], t_lookup, t_a2l = 0;
	long rss0, rss1, hwm;
	struct mallinfo2 m0, m1;
	struct stat st;
	const char *a2l = pick_addr2line();
	char tmpl[] = "/tmp/goprof-bench-pcs-XXXXXX";
	int fail = 0;

	if (!path) {
		fprintf(stderr, "symbolize_bench: no Go binary found; pass one\n");
		return 77; /* meson: skipped */
	}
	stat(path, &st);
	/* Open time: median of 9 opens (page cache warm after the first). */
	for (int i = 0; i < 9; i++) {
		t0 = now();
		bin = goprof_binary_open(path, NULL);
		t_open[i] = now() - t0;
		if (!bin) {
			fprintf(stderr, "symbolize_bench: %s\n", goprof_last_error());
			return 1;
		}
		goprof_binary_free(bin);
	}
	for (int i = 0; i < 9; i++)
		for (int j = i + 1; j < 9; j++)
			if (t_open[j] < t_open[i]) {
				double t = t_open[i];
				t_open[i] = t_open[j];
				t_open[j] = t;
			}

	rss0 = status_kb("VmRSS:");
	m0 = mallinfo2();
	bin = goprof_binary_open(path, NULL);
	m1 = mallinfo2(); /* what open allocated: index, build info; the file is only mapped */
	goprof_binary_pclntab_info(bin, &info);
	goprof_binary_foreach_function(bin, add_fn, &fs);
	pcs = malloc(npcs * sizeof(*pcs));
	for (size_t i = 0; i < npcs; i++) {
		size_t k;

		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		k = seed % fs.n;
		pcs[i] = fs.entry[k] + (fs.end[k] > fs.entry[k] ? (seed >> 20) % (fs.end[k] - fs.entry[k]) : 0);
	}
	t0 = now();
	goprof_binary_symbolize(bin, pcs, npcs, count_cb, &frames);
	t_lookup = now() - t0;
	rss1 = status_kb("VmRSS:");
	hwm = status_kb("VmHWM:");

	printf("binary: %s (%.1f MiB, %u functions, pclntab %.1f MiB)\n", path, st.st_size / 1048576.0, info.nfunc,
	       info.size / 1048576.0);
	printf("libgoprof: open %.2f ms (median of 9), %zu PCs -> %zu frames in %.3f s: %.0f PCs/s\n",
	       t_open[4] * 1e3, npcs, frames, t_lookup, npcs / t_lookup);
	/* Memory the symbolizer itself allocated (the file is mapped and shared with the page cache). */
	{
		size_t b0 = m0.uordblks + m0.hblkhd, b1 = m1.uordblks + m1.hblkhd;
		size_t heap_own = b1 > b0 ? b1 - b0 : 0;

		printf("memory: heap allocated by libgoprof %.2f MiB (%.1f%% of the pclntab); RSS grew %.1f MiB "
		       "(mapped file pages touched), peak RSS %.1f MiB, file %.1f MiB\n",
		       heap_own / 1048576.0, 100.0 * heap_own / (double)info.size, (rss1 - rss0) / 1024.0,
		       hwm / 1024.0, st.st_size / 1048576.0);
		if (heap_own > info.size / 10)
			fail = 1;
	}
	if (a2l) {
		int fd = mkstemp(tmpl);
		FILE *f = fdopen(fd, "w");
		char *cmd;

		for (size_t i = 0; i < npcs; i++)
			fprintf(f, "0x%llx\n", (unsigned long long)pcs[i]);
		fclose(f);
		if (asprintf(&cmd, "'%s' '%s' < %s > /dev/null", a2l, path, tmpl) < 0)
			return 1;
		t0 = now();
		if (system(cmd) != 0)
			fprintf(stderr, "symbolize_bench: %s failed\n", cmd);
		t_a2l = now() - t0;
		unlink(tmpl);
		free(cmd);
		/* libgoprof's figure including its start-up (one open), as addr2line's includes its own. */
		printf("go tool addr2line: %zu PCs in %.3f s (start-up included): %.0f PCs/s\n", npcs, t_a2l,
		       npcs / t_a2l);
		printf("ratio: libgoprof / go tool addr2line throughput = %.1fx (open included: %.1fx)\n",
		       (npcs / t_lookup) / (npcs / t_a2l), t_a2l / (t_lookup + t_open[4]));
		if (t_a2l / (t_lookup + t_open[4]) < 10)
			fail = 1;
	}
	printf("ratio: open time / 20 ms target = %.2f\n", t_open[4] * 1e3 / 20);
	if (t_open[4] > 0.020)
		fail = 1;
	goprof_binary_free(bin);
	free(pcs);
	free(fs.entry);
	free(fs.end);
	printf("targets (10x addr2line, open < 20 ms, heap <= 10%% of pclntab): %s\n", fail ? "MISSED" : "met");
	return fail;
}
