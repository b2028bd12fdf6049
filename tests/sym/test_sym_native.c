// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Native, process and kernel frames:
 *  - C functions of the cgo fixture against binutils `addr2line -f -i` (outermost name)
 *    and LLVM's (or elfutils') addr2line (file:line: binutils 2.40 misreads DWARF 5 file
 *    numbers, naming cgo.cgo2.c for code whose #line says cgo.go, and answers ?? on
 *    Go 1.26+ links);
 *  - this test process's own functions and libc through goprof_symbolizer (load bias from
 *    /proc/self/maps) against dladdr();
 *  - a running PIE Go fixture through /proc/PID/maps, and two processes sharing one binary;
 *  - kernel addresses against the lines of /proc/kallsyms.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <pthread.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <goprof/error.h>
#include <goprof/symbolizer.h>

#include "sym/symbolizer_internal.h"
#include "sym_test_util.h"

static char *trim(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
	return s;
}

Test(sym_native, cgo_c_functions_vs_addr2line, .timeout = 120)
{
	char **vers;
	size_t nv = symt_go_versions(&vers);
	const char *lines_tool = access("/usr/bin/llvm-addr2line", X_OK) == 0 ? "llvm-addr2line" :
				 access("/usr/bin/eu-addr2line", X_OK) == 0 ? "eu-addr2line" : NULL;

	cr_assert(lines_tool, "needs llvm-addr2line (llvm) or eu-addr2line (elfutils) for DWARF 5 file:line truth");

	for (size_t v = 0; v < nv; v++) {
		char *p = symt_fixture(vers[v], "cgoext", false), *cmd, *out, *line, *save = NULL;
		struct goprof_binary *bin = goprof_binary_open(p, NULL);
		size_t checked = 0, ok = 0, lines_checked = 0, lines_ok = 0;
		int st;

		cr_assert(bin, "%s", goprof_last_error());
		/* C text symbols with sizes, from binutils nm. */
		if (asprintf(&cmd, "nm -S --defined-only '%s' | awk '$3 ~ /^[tT]$/ && $4 !~ /\\./ {print $1, $2, $4}'", p) < 0)
			abort();
		out = symt_capture(cmd, &st);
		free(cmd);
		for (line = strtok_r(out, "\n", &save); line && checked < 300; line = strtok_r(NULL, "\n", &save)) {
			char name[256], *a2l;
			unsigned long long addr, size;
			struct goprof_frame fr[80];
			int n;

			if (sscanf(line, "%llx %llx %255s", &addr, &size, name) != 3 || size == 0)
				continue;
			addr += size / 2;
			n = goprof_binary_symbolize_addr(bin, addr, fr, 80, sizeof(fr[0]));
			if (n > 0 && fr[0].kind == GOPROF_FRAME_KIND_GO)
				continue; /* a Go function (nm lists those too) */
			if (asprintf(&cmd, "addr2line -f -i -e '%s' 0x%llx | awk 'NR %% 2 == 1' | tail -1", p, addr) < 0)
				abort();
			a2l = trim(symt_capture(cmd, &st));
			free(cmd);
			checked++;
			if (n == 1 && fr[0].kind == GOPROF_FRAME_KIND_NATIVE &&
			    (strcmp(fr[0].function, a2l) == 0 || strcmp(a2l, "??") == 0))
				ok++;
			else
				fprintf(stderr, "%s 0x%llx: addr2line %s, libgoprof %s\n", p, addr, a2l,
					n > 0 ? fr[0].function : "(none)");
			free(a2l);
			/* file:line from DWARF (innermost), as addr2line prints it without -i. */
			if (asprintf(&cmd, "%s -e '%s' 0x%llx | head -1 | sed -E 's/ \\(discriminator.*//; "
				     "s/(:[0-9]+):[0-9]+$/\\1/'", lines_tool, p, addr) < 0)
				abort();
			a2l = trim(symt_capture(cmd, &st));
			free(cmd);
			if (!strstr(a2l, "??") && a2l[0] && a2l[strlen(a2l) - 1] != '?' && a2l[0] != ':') {
				char ours[1024];

				snprintf(ours, sizeof(ours), "%s:%u", n > 0 && fr[0].file ? fr[0].file : "??",
					 n > 0 ? fr[0].line : 0);
				lines_checked++;
				if (strcmp(ours, a2l) == 0)
					lines_ok++;
				else
					fprintf(stderr, "%s 0x%llx: addr2line %s, libgoprof %s\n", p, addr, a2l, ours);
			}
			free(a2l);
		}
		fprintf(stderr, "native go%s cgoext: %zu/%zu C functions agree with addr2line, %zu/%zu DWARF "
			"file:lines with %s\n", vers[v], ok, checked, lines_ok, lines_checked, lines_tool);
		cr_expect_gt(checked, 20, "too few C functions in %s", p);
		cr_expect_eq(ok, checked);
		cr_expect_gt(lines_checked, 10, "cgo C code should carry DWARF line info");
		cr_expect_eq(lines_ok, lines_checked);
		free(out);
		goprof_binary_free(bin);
		free(p);
	}
}

__attribute__((noinline)) int sym_test_marker_function(int x);
__attribute__((noinline)) int sym_test_marker_function(int x)
{
	return x * 7 + 1;
}

struct one_frame {
	char name[256];
	uint64_t func_addr;
	int count;
};

static int keep_last(const struct goprof_frame *f, void *ctx)
{
	struct one_frame *o = ctx;

	snprintf(o->name, sizeof(o->name), "%s", f->function);
	o->func_addr = f->func_addr;
	o->count++;
	return 0;
}

Test(sym_native, own_process_and_libc, .timeout = 60)
{
	struct goprof_symbolizer *sym = goprof_symbolizer_new(NULL);
	void *fns[] = { (void *)sym_test_marker_function, (void *)getpid, (void *)fopen, (void *)qsort };

	cr_assert(sym);
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		struct one_frame o = { 0 };
		uint64_t a = (uint64_t)(uintptr_t)fns[i] + 1;
		Dl_info dl;
		int err = goprof_symbolizer_symbolize_pid(sym, getpid(), &a, 1, keep_last, &o);

		cr_assert_eq(err, 0, "%s", goprof_last_error());
		cr_assert_eq(o.count, 1, "address %p not symbolized", fns[i]);
		if (i == 0) {
			cr_expect_str_eq(o.name, "sym_test_marker_function");
			continue;
		}
		/* dladdr reads the same symbol tables independently: same function start. */
		cr_assert(dladdr(fns[i], &dl) && dl.dli_saddr);
		cr_expect_eq((uint64_t)(uintptr_t)dl.dli_saddr - (uint64_t)(uintptr_t)dl.dli_fbase,
			     o.func_addr - 0, "%s vs dladdr %s", o.name, dl.dli_sname);
	}
	goprof_symbolizer_free(sym);
}

static pid_t spawn_waiting(const char *path, FILE **to_child, uint64_t *addr)
{
	int in[2], out[2];
	pid_t pid;
	char line[128];
	FILE *from;

	cr_assert(pipe(in) == 0 && pipe(out) == 0);
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(path, path, "wait", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	*to_child = fdopen(in[1], "w");
	from = fdopen(out[0], "r");
	cr_assert(fgets(line, sizeof(line), from) && line[0] == 'P', "%s wait: no address", path);
	*addr = strtoull(line + 2, NULL, 16);
	fclose(from);
	return pid;
}

Test(sym_native, running_pie_processes_share_one_binary, .timeout = 60)
{
	char **vers;
	size_t nv = symt_go_versions(&vers);
	char *p = symt_fixture(vers[nv - 1], "pie", false);
	struct goprof_symbolizer *sym = goprof_symbolizer_new(NULL);
	FILE *c1, *c2;
	uint64_t a1, a2;
	pid_t p1 = spawn_waiting(p, &c1, &a1), p2 = spawn_waiting(p, &c2, &a2);
	struct one_frame o1 = { 0 }, o2 = { 0 };
	struct goprof_frame fr[8];

	cr_assert(sym);
	cr_assert_eq(goprof_symbolizer_symbolize_pid(sym, p1, &a1, 1, keep_last, &o1), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_symbolizer_symbolize_pid(sym, p2, &a2, 1, keep_last, &o2), 0, "%s", goprof_last_error());
	cr_expect_str_eq(o1.name, "main.physical");
	cr_expect_str_eq(o2.name, "main.physical");
	cr_expect_eq(gp_symbolizer_nbinaries(sym), 1, "two processes of one file must share one binary");
	/* Internal entry point used by the CPU profiler: run-time address in, link-time vaddr out. */
	cr_expect_gt(gp_symbolize_pid(sym, p1, a1, fr, 8), 0);
	cr_expect_eq(fr[0].addr, a1);
	cr_expect_eq(fr[0].vaddr, fr[0].func_addr, "entry's link-time address");
	/* The mapping, as a pprof Mapping needs it: range, offset, file, build ID. */
	{
		struct gp_mapping_info mi;
		struct goprof_binary *bin = goprof_binary_open(p, NULL);
		uint8_t id[64];
		char hex[160] = "";
		int n = goprof_binary_gnu_build_id(bin, id, sizeof(id));

		for (int i = 0; i < n && i < 64; i++)
			sprintf(hex + 2 * i, "%02x", id[i]);
		cr_assert_eq(gp_symbolize_pid_mapping(sym, p1, a1, &mi), 1, "%s", goprof_last_error());
		cr_expect(mi.start <= a1 && a1 < mi.end);
		cr_expect(mi.path && strstr(mi.path, "symfix-") != NULL, "path %s", mi.path);
		cr_expect_str_eq(mi.build_id, n > 0 ? hex : goprof_binary_go_build_id(bin));
		goprof_binary_free(bin);
	}
	fclose(c1);
	fclose(c2);
	waitpid(p1, NULL, 0);
	waitpid(p2, NULL, 0);
	/* After exit, cached maps still answer until forgotten. */
	o1.count = 0;
	cr_expect_eq(goprof_symbolizer_symbolize_pid(sym, p1, &a1, 1, keep_last, &o1), 0);
	cr_expect_eq(o1.count, 1);
	cr_expect_eq(goprof_symbolizer_forget_pid(sym, p1), 0);
	cr_expect_eq(goprof_symbolizer_symbolize_pid(sym, p1, &a1, 1, keep_last, &o1), -ESRCH);
	goprof_symbolizer_free(sym);
	free(p);
}

Test(sym_native, kernel_vs_proc_kallsyms, .timeout = 120)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	struct goprof_symbolizer *sym = goprof_symbolizer_new(NULL);
	char line[512];
	size_t n = 0, ok = 0, lines = 0;

	cr_assert(f && sym);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long addr;
		char type, name[256];
		struct goprof_frame fr;

		/* Every 50th text symbol: its address must resolve to a symbol at that address. */
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 || (type != 't' && type != 'T'))
			continue;
		if (lines++ % 50)
			continue;
		if (!addr) {
			cr_skip_test("/proc/kallsyms hides addresses here (kptr_restrict)");
		}
		n++;
		if (gp_symbolize_kernel(sym, addr, &fr) == 1 && fr.func_addr == addr)
			ok++;
		else
			fprintf(stderr, "kallsyms %llx %s: got %s\n", addr, name, fr.function);
	}
	fclose(f);
	fprintf(stderr, "kernel: %zu/%zu sampled kallsyms text symbols resolve to their own address\n", ok, n);
	cr_expect_gt(n, 100);
	cr_expect_eq(ok, n);
	goprof_symbolizer_free(sym);
}

/*
 * DWARF in the places distributions put it: compressed sections (gcc -gz=zlib, the older
 * .zdebug form of -gz=zlib-gnu, objcopy --compress-debug-sections=zstd), and
 * a separate debug file found through .gnu_debuglink (objcopy --only-keep-debug, strip -g,
 * --add-gnu-debuglink), and the line table versions before DWARF 5 (gcc -gdwarf-4,
 * -gdwarf-2: lib/sym/dwarf_lines.c runs the line programs itself). Ground truth: binutils
 * addr2line on the unstripped build (on the build itself for the older versions).
 */
Test(sym_native, compressed_and_separate_debug_info, .timeout = 120)
{
	char dir[] = "/tmp/symt-dbg-XXXXXX", *cmd, *out;
	static const char src[] = "#include <stdio.h>\n"
				  "__attribute__((noinline)) int work(int n)\n"
				  "{\n"
				  "\tint s = 0;\n"
				  "\tfor (int i = 0; i < n; i++)\n"
				  "\t\ts += i * i;\n"
				  "\treturn s;\n"
				  "}\n"
				  "int main(int argc, char **argv) { printf(\"%d\\n\", work(argc * 100)); return 0; }\n";
	const char *variants[] = { "prog-zlib", "prog-zlib-gnu", "prog-zstd", "prog-split", "prog-dwarf4",
				   "prog-dwarf2" };
	FILE *f;
	int st;

	cr_assert(mkdtemp(dir));
	if (asprintf(&cmd, "%s/prog.c", dir) < 0)
		abort();
	f = fopen(cmd, "w");
	fputs(src, f);
	fclose(f);
	free(cmd);
	if (asprintf(&cmd, "cd %s && gcc -g -O1 -o prog prog.c && gcc -g -O1 -gz=zlib -o prog-zlib prog.c && "
		     "gcc -g -O1 -gz=zlib-gnu -o prog-zlib-gnu prog.c && "
		     "gcc -gdwarf-4 -O1 -o prog-dwarf4 prog.c && gcc -gdwarf-2 -O1 -o prog-dwarf2 prog.c && "
		     "objcopy --compress-debug-sections=zstd prog prog-zstd && "
		     "cp prog prog-split && objcopy --only-keep-debug prog-split prog-split.debug && "
		     "strip -g prog-split && objcopy --add-gnu-debuglink=prog-split.debug prog-split && "
		     "readelf -S prog-zlib | grep -q -A1 debug_line && readelf -t prog-zlib | grep -q ZLIB", dir) < 0)
		abort();
	out = symt_capture(cmd, &st);
	free(out);
	free(cmd);
	if (st != 0)
		cr_skip_test("gcc/objcopy could not build the debug-info variants");
	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		char path[256], ref[256];
		struct goprof_binary *bin;
		unsigned long long addr, size;
		size_t checked = 0, ok = 0;

		snprintf(path, sizeof(path), "%s/%s", dir, variants[v]);
		snprintf(ref, sizeof(ref), "%s/%s", dir, strstr(variants[v], "dwarf") ? variants[v] : "prog");
		bin = goprof_binary_open(path, NULL);
		cr_assert(bin, "%s", goprof_last_error());
		if (asprintf(&cmd, "nm -S '%s' | awk '$4 == \"work\" {print $1, $2}'", ref) < 0)
			abort();
		out = symt_capture(cmd, &st);
		free(cmd);
		cr_assert(sscanf(out, "%llx %llx", &addr, &size) == 2, "nm: %s", out);
		free(out);
		for (unsigned long long a = addr; a < addr + size; a++) {
			struct goprof_frame fr[4];
			int n = goprof_binary_symbolize_addr(bin, a, fr, 4, sizeof(fr[0]));
			char ours[512];

			if (asprintf(&cmd, "addr2line -e '%s' 0x%llx | sed 's/ (discriminator.*//'", ref, a) < 0)
				abort();
			out = trim(symt_capture(cmd, &st));
			free(cmd);
			snprintf(ours, sizeof(ours), "%s:%u", n > 0 && fr[0].file ? fr[0].file : "??", n > 0 ? fr[0].line : 0);
			checked++;
			if (n == 1 && strcmp(fr[0].function, "work") == 0 && strcmp(ours, out) == 0)
				ok++;
			else
				fprintf(stderr, "%s 0x%llx: addr2line %s, libgoprof %s %s\n", path, a, out,
					n > 0 ? fr[0].function : "-", ours);
			free(out);
		}
		fprintf(stderr, "debug info %s: %zu/%zu addresses agree with addr2line\n", variants[v], ok, checked);
		cr_expect_gt(checked, 4);
		cr_expect_eq(ok, checked);
		goprof_binary_free(bin);
	}
	if (asprintf(&cmd, "rm -rf '%s'", dir) < 0)
		abort();
	free(symt_capture(cmd, &st));
	free(cmd);
}

struct thread_arg {
	struct goprof_binary *bin;
	struct goprof_symbolizer *sym;
	const uint64_t *pcs;
	size_t n;
	size_t frames;
	uint64_t hash;
};

static int hash_frame(const struct goprof_frame *f, void *ctx)
{
	struct thread_arg *t = ctx;

	t->frames++;
	t->hash = (t->hash ^ (uint64_t)(uintptr_t)f->function ^ f->line ^ (f->addr_index << 20)) * 1099511628211ull;
	return 0;
}

static void *lookup_thread(void *p)
{
	struct thread_arg *t = p;

	for (int r = 0; r < 3; r++) {
		t->frames = 0;
		t->hash = 1469598103934665603ull;
		goprof_binary_symbolize(t->bin, t->pcs, t->n, hash_frame, t);
	}
	return NULL;
}

/* Concurrent lookups on one binary from 4 threads give the single-threaded answers. */
Test(sym_native, concurrent_lookups, .timeout = 120)
{
	char **vers;
	size_t nv = symt_go_versions(&vers), nf, np;
	char *p = symt_fixture(vers[nv - 1], "cgoext", false);
	struct symt_func *funcs;
	uint64_t *pcs;
	struct thread_arg ref = { 0 }, args[4];
	pthread_t th[4];

	nf = symt_oracle_funcs(p, &funcs);
	np = symt_random_pcs(funcs, nf, 50000, 99, &pcs);
	ref.bin = goprof_binary_open(p, NULL);
	cr_assert(ref.bin);
	ref.pcs = pcs;
	ref.n = np;
	lookup_thread(&ref);
	for (int i = 0; i < 4; i++) {
		args[i] = ref;
		pthread_create(&th[i], NULL, lookup_thread, &args[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		cr_expect_eq(args[i].frames, ref.frames);
		cr_expect_eq(args[i].hash, ref.hash, "thread %d saw different frames", i);
	}
	goprof_binary_free(ref.bin);
	free(pcs);
	symt_free_funcs(funcs, nf);
	free(p);
}

/* [vdso] frames (time.Now in Go lands there) against the dynamic linker's view of the vDSO. */
Test(sym_native, vdso_of_a_process, .timeout = 30)
{
	void *h = dlopen("linux-vdso.so.1", RTLD_NOW | RTLD_NOLOAD);
	void *fn = h ? dlsym(h, "__vdso_clock_gettime") : NULL;
	struct goprof_symbolizer *sym = goprof_symbolizer_new(NULL);
	struct goprof_frame fr[4];
	Dl_info dl;
	int n;

	if (!fn)
		cr_skip_test("no vDSO symbol visible through the dynamic linker");
	cr_assert(dladdr(fn, &dl) && dl.dli_sname);
	n = gp_symbolize_pid(sym, getpid(), (uint64_t)(uintptr_t)fn + 2, fr, 4);
	cr_assert_eq(n, 1, "vdso address not symbolized: %s", goprof_last_error());
	cr_expect_str_eq(fr[0].module, "[vdso]");
	cr_expect_eq(fr[0].func_addr, (uint64_t)(uintptr_t)dl.dli_saddr - (uint64_t)(uintptr_t)dl.dli_fbase,
		     "%s vs dladdr %s", fr[0].function, dl.dli_sname);
	fprintf(stderr, "vdso: %s = dladdr %s\n", fr[0].function, dl.dli_sname);
	goprof_symbolizer_free(sym);
}

static char *write_text(const char *text)
{
	char *p = strdup("/tmp/symt-kallsyms-XXXXXX");
	int fd = mkstemp(p);

	cr_assert(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	return p;
}

/* kallsyms_path: module names, and hidden addresses (kptr_restrict) as a clear error. */
Test(sym_native, kallsyms_file_formats)
{
	char *hidden = write_text("0000000000000000 T _text\n0000000000000000 t foo\n");
	char *shown = write_text("ffffffff81000000 T _text\nffffffff81000100 t foo\nffffffff81000200 D data\n"
				 "ffffffffc0000000 t modfn\t[mymod]\nffffffffc0000100 t modfn2\t[mymod]\n");
	struct goprof_symbolizer_opts o1 = { .sz = sizeof(o1), .kallsyms_path = hidden };
	struct goprof_symbolizer_opts o2 = { .sz = sizeof(o2), .kallsyms_path = shown };
	struct goprof_symbolizer *s1 = goprof_symbolizer_new(&o1), *s2 = goprof_symbolizer_new(&o2);
	struct goprof_frame f;

	cr_assert(s1 && s2);
	cr_expect_eq(gp_symbolize_kernel(s1, 0xffffffff81000105ull, &f), -EACCES);
	cr_expect(strstr(goprof_last_error(), "kptr_restrict"), "%s", goprof_last_error());
	cr_assert_eq(gp_symbolize_kernel(s2, 0xffffffff81000105ull, &f), 1);
	cr_expect_str_eq(f.function, "foo");
	cr_expect_str_eq(f.module, "[kernel]");
	cr_expect_eq(f.func_addr, 0xffffffff81000100ull);
	cr_assert_eq(gp_symbolize_kernel(s2, 0xffffffffc0000110ull, &f), 1);
	cr_expect_str_eq(f.function, "modfn2");
	cr_expect_str_eq(f.module, "[mymod]");
	cr_expect_eq(gp_symbolize_kernel(s2, 0x1000, &f), 0, "below every symbol");
	goprof_symbolizer_free(s1);
	goprof_symbolizer_free(s2);
	unlink(hidden);
	unlink(shown);
	free(hidden);
	free(shown);
}

struct pid_thread {
	struct goprof_symbolizer *sym;
	pid_t pid;
	uint64_t addr;
	int ok, runs;
};

static void *pid_lookup_thread(void *p)
{
	struct pid_thread *t = p;

	for (int i = 0; i < t->runs; i++) {
		struct goprof_frame fr[8];
		int n = gp_symbolize_pid(t->sym, t->pid, t->addr, fr, 8);

		if (n > 0 && strcmp(fr[n - 1].function, "main.physical") == 0)
			t->ok++;
		if (i % 97 == 0)
			goprof_symbolizer_forget_pid(t->sym, t->pid); /* maps re-read under load */
	}
	return NULL;
}

/* Concurrent process lookups with maps being dropped and re-read: same answers, no crash. */
Test(sym_native, concurrent_process_lookups, .timeout = 60)
{
	char **vers;
	size_t nv = symt_go_versions(&vers);
	char *p = symt_fixture(vers[nv - 1], "cgopie", true);
	struct goprof_symbolizer *sym = goprof_symbolizer_new(NULL);
	struct pid_thread args[4];
	pthread_t th[4];
	FILE *c;
	uint64_t a;
	pid_t pid = spawn_waiting(p, &c, &a);

	for (int i = 0; i < 4; i++) {
		args[i] = (struct pid_thread){ .sym = sym, .pid = pid, .addr = a, .runs = 2000 };
		pthread_create(&th[i], NULL, pid_lookup_thread, &args[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		cr_expect_eq(args[i].ok, args[i].runs, "thread %d: %d of %d lookups right", i, args[i].ok, args[i].runs);
	}
	cr_expect_eq(gp_symbolizer_nbinaries(sym), 1);
	fclose(c);
	waitpid(pid, NULL, 0);
	goprof_symbolizer_free(sym);
	free(p);
}

/*
 * A DWARF 5 line table whose code starts in file 1, not file 0 (what cgo's #line
 * directives make): gcc -g, then every address of the function against LLVM's
 * addr2line, and the file must be the one the directive names.
 */
Test(sym_native, dwarf5_line_directive, .timeout = 60)
{
	char dir[] = "/tmp/symt-line-XXXXXX", *cmd, *out;
	unsigned long long addr, size;
	struct goprof_binary *bin;
	size_t checked = 0, ok = 0;
	FILE *f;
	int st;

	cr_assert(mkdtemp(dir));
	if (asprintf(&cmd, "%s/p.c", dir) < 0)
		abort();
	f = fopen(cmd, "w");
	fputs("int helper(int n);\n#line 40 \"user.go\"\n__attribute__((noinline)) int helper(int n)\n{\n"
	      "\treturn n * 3 + 1;\n}\n#line 10 \"gen.c\"\nint main(int argc, char **argv) { return helper(argc); }\n", f);
	fclose(f);
	free(cmd);
	if (asprintf(&cmd, "cd %s && gcc -g -gdwarf-5 -O1 -o p p.c && nm -S p | awk '$4 == \"helper\" {print $1, $2}'",
		     dir) < 0)
		abort();
	out = symt_capture(cmd, &st);
	free(cmd);
	cr_assert(st == 0 && sscanf(out, "%llx %llx", &addr, &size) == 2, "gcc/nm: %s", out);
	free(out);
	if (asprintf(&cmd, "%s/p", dir) < 0)
		abort();
	bin = goprof_binary_open(cmd, NULL);
	cr_assert(bin, "%s", goprof_last_error());
	for (unsigned long long a = addr; a < addr + size; a++) {
		struct goprof_frame fr[4];
		int n = goprof_binary_symbolize_addr(bin, a, fr, 4, sizeof(fr[0]));
		char ours[512], *ref, *c2;

		if (asprintf(&c2, "llvm-addr2line -e '%s' 0x%llx | sed 's/ (discriminator.*//'", cmd, a) < 0)
			abort();
		ref = trim(symt_capture(c2, &st));
		free(c2);
		cr_assert_eq(st, 0, "llvm-addr2line is needed (DWARF 5 file numbers; binutils 2.40 misreads them)");
		snprintf(ours, sizeof(ours), "%s:%u", n > 0 && fr[0].file ? fr[0].file : "??", n > 0 ? fr[0].line : 0);
		checked++;
		if (strcmp(ours, ref) == 0 && strstr(ours, "/user.go:4"))
			ok++;
		else
			fprintf(stderr, "%s 0x%llx: llvm-addr2line %s, libgoprof %s\n", cmd, a, ref, ours);
		free(ref);
	}
	fprintf(stderr, "DWARF 5 #line: %zu/%zu addresses of helper agree with llvm-addr2line (user.go)\n", ok, checked);
	cr_expect_gt(checked, 2);
	cr_expect_eq(ok, checked);
	goprof_binary_free(bin);
	if (asprintf(&out, "rm -rf '%s'", dir) < 0)
		abort();
	free(symt_capture(out, &st));
	free(out);
	free(cmd);
}
