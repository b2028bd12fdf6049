// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Symbolizer benchmark: PCs per second and open time of libgoprof on a large Go binary,
 * against Go's own `go tool addr2line` on the same PC list in the same run, and the
 * memory the symbolizer adds compared with the pclntab size.
 *
 * usage: symbolize_bench [BINARY [NPCS]]
 *   BINARY defaults to the largest Go binary found among a few candidates; NPCS to 200000.
 * Environment: GOPROF_BENCH_ADDR2LINE = path of Go's addr2line tool (default: newest
 * /opt/libgoprof/go-X/pkg/tool/linux_amd64/addr2line).
 * Prints "ratio" lines; exits 1 if the targets (10x addr2line with start-up, open < 20 ms,
 * peak RSS <= file size + 10%) are missed, so it can guard regressions. Timings are the
 * best of several runs, as the machine may be shared.
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

static size_t peak_heap; /* bytes in use, sampled while frames are delivered */

static size_t heap_in_use(void)
{
	struct mallinfo2 m = mallinfo2();

	return m.uordblks + m.hblkhd;
}

static int count_cb(const struct goprof_frame *fr, void *ctx)
{
	/* Batches are delivered after their lookups: the batch buffers are live here. */
	if ((*(size_t *)ctx)++ % 16384 == 0) {
		size_t h = heap_in_use();

		if (h > peak_heap)
			peak_heap = h;
	}
	return 0;
}

#define REPS 5

static const char *pick_binary(void)
{
	static const char *const cands[] = { "/usr/bin/anthoscli", "/usr/local/bin/terraform", "/usr/bin/kubectl",
					     "/opt/libgoprof/go-1.23/pkg/tool/linux_amd64/compile" };
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
		snprintf(path, sizeof(path), "/opt/libgoprof/go-%s/pkg/tool/linux_amd64/addr2line", vers[i]);
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
	double t0, t_open[9], t_lookup, t_first, t_a2l = 1e9;
	size_t base_heap;
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
	base_heap = heap_in_use();
	t0 = now();
	goprof_binary_symbolize(bin, pcs, npcs, count_cb, &frames);
	t_first = now() - t0;
	rss1 = status_kb("VmRSS:");
	hwm = status_kb("VmHWM:");
	goprof_binary_free(bin);
	/* Start-up included and best of REPS (the machine may be shared): open, look up, close. */
	t_lookup = 1e9;
	for (int r = 0; r < REPS; r++) {
		size_t fr = 0;

		t0 = now();
		bin = goprof_binary_open(path, NULL);
		goprof_binary_symbolize(bin, pcs, npcs, count_cb, &fr);
		goprof_binary_free(bin);
		t0 = now() - t0;
		if (t0 < t_lookup)
			t_lookup = t0;
	}
	bin = NULL;

	printf("binary: %s (%.1f MiB, %u functions, pclntab %.1f MiB)\n", path, st.st_size / 1048576.0, info.nfunc,
	       info.size / 1048576.0);
	printf("libgoprof: open %.2f ms (median of 9); %zu PCs -> %zu frames: first run %.3f s, best of %d "
	       "with open %.3f s: %.0f PCs/s\n", t_open[4] * 1e3, npcs, frames, t_first, REPS, t_lookup,
	       npcs / t_lookup);
	/* Memory the symbolizer itself allocated (the file is mapped and shared with the page cache). */
	{
		size_t b0 = m0.uordblks + m0.hblkhd, b1 = m1.uordblks + m1.hblkhd;
		size_t heap_own = b1 > b0 ? b1 - b0 : 0;

		size_t batch = peak_heap > base_heap ? peak_heap - base_heap : 0;

		printf("memory: heap kept by an open binary %.2f MiB (%.2f%% of the pclntab), transient batch "
		       "buffers %.2f MiB; RSS grew %.1f MiB (mapped file pages touched, shared with the page "
		       "cache), peak RSS %.1f MiB, file %.1f MiB\n",
		       heap_own / 1048576.0, 100.0 * heap_own / (double)info.size, batch / 1048576.0,
		       (rss1 - rss0) / 1024.0, hwm / 1024.0, st.st_size / 1048576.0);
		/* The target: memory no more than the mapped file plus 10%. */
		if ((double)hwm * 1024 > 1.1 * (double)st.st_size)
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
		for (int r = 0; r < 3; r++) {
			t0 = now();
			if (system(cmd) != 0)
				fprintf(stderr, "symbolize_bench: %s failed\n", cmd);
			t0 = now() - t0;
			if (t0 < t_a2l)
				t_a2l = t0;
		}
		unlink(tmpl);
		free(cmd);
		/* libgoprof's figure including its start-up (one open), as addr2line's includes its own. */
		printf("go tool addr2line (%s): %zu PCs in %.3f s, best of 3, start-up included: %.0f PCs/s\n",
		       a2l, npcs, t_a2l, npcs / t_a2l);
		printf("ratio: libgoprof / go tool addr2line throughput, start-up included = %.1fx\n",
		       t_a2l / t_lookup);
		if (t_a2l / t_lookup < 10)
			fail = 1;
	}
	printf("ratio: open time / 20 ms target = %.2f\n", t_open[4] * 1e3 / 20);
	if (t_open[4] > 0.020)
		fail = 1;
	free(pcs);
	free(fs.entry);
	free(fs.end);
	printf("targets (10x addr2line with start-up, open < 20 ms, peak RSS <= file size + 10%%): %s\n",
	       fail ? "MISSED" : "met");
	return fail;
}
