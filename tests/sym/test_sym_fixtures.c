// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The symbolizer against Go's own answers, on the fixture built by every installed
 * toolchain in every build mode (tests/sym/build_fixtures.sh), plain, stripped with
 * `strip --strip-all`, and with the section header table removed:
 *  - debug/gosym (tests/sym/gosym_oracle): outermost function and innermost file:line of
 *    every function entry and random PCs; 100% / >= 99.9% agreement required;
 *  - the Go runtime's runtime.CallersFrames, printed by the running fixture: every
 *    frame, and whole inline chains, must be equal;
 *  - `go tool buildid`, `go tool addr2line` and `readelf -n` for build IDs and names.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <goprof/error.h>
#include <goprof/symbolizer.h>

#include "sym/symbolizer_internal.h"
#include "sym_test_util.h"

#define PCS_PER_FUNC 4

static void gosym_agreement(const char *mode)
{
	char **vers;
	size_t nv = symt_go_versions(&vers);

	cr_assert(nv > 0, "no Go versions configured");
	for (size_t v = 0; v < nv; v++) {
		char *plain = symt_fixture(vers[v], mode, false), *stripped = symt_fixture(vers[v], mode, true);
		char noshdr[] = "/tmp/symt-noshdr-XXXXXX";
		const char *variants[3] = { plain, stripped, noshdr };
		struct symt_func *funcs;
		struct symt_answer *ans;
		uint64_t *pcs;
		size_t nf, np, na;
		int fd = mkstemp(noshdr);

		cr_assert(fd >= 0);
		close(fd);
		cr_assert(symt_copy_without_sections(stripped, noshdr));
		/* Ground truth from the unstripped link (same addresses as the stripped copies). */
		nf = symt_oracle_funcs(plain, &funcs);
		cr_assert(nf > 500, "gosym_oracle listed %zu functions of %s", nf, plain);
		np = symt_pick_pcs(funcs, nf, PCS_PER_FUNC, 0x5eed + v, &pcs);
		ans = calloc(np, sizeof(*ans));
		na = symt_oracle_answers(plain, pcs, np, ans);
		cr_assert_eq(na, np, "oracle answered %zu of %zu PCs", na, np);
		for (int k = 0; k < 3; k++) {
			struct symt_stats st;

			symt_compare(variants[k], ans, na, &st, 5);
			fprintf(stderr, "agreement go%s %-8s %-10s: outermost function %zu/%zu (%.3f%%), "
				"innermost file:line %zu/%zu (%.3f%%), %zu gosym-bug\n", vers[v], mode,
				k == 0 ? "plain" : k == 1 ? "stripped" : "no-shdr", st.func_ok, st.n,
				100.0 * st.func_ok / (st.n ? st.n : 1), st.line_ok, st.n,
				100.0 * st.line_ok / (st.n ? st.n : 1), st.line_gosym_bug);
			cr_expect_eq(st.n, na, "%s: could not be opened", variants[k]);
			cr_expect_eq(st.func_ok, st.n, "%s: outermost function must agree on every PC", variants[k]);
			cr_expect_geq((st.line_ok + st.line_gosym_bug) * 1000, st.n * 999, "%s: file:line agreement below 99.9%%",
				      variants[k]);
		}
		unlink(noshdr);
		symt_free_answers(ans, na);
		free(ans);
		free(pcs);
		symt_free_funcs(funcs, nf);
		free(plain);
		free(stripped);
	}
}

Test(sym_gosym, default_mode, .timeout = 240) { gosym_agreement("default"); }
Test(sym_gosym, ldflags_s_w, .timeout = 240) { gosym_agreement("sw"); }
Test(sym_gosym, pie, .timeout = 240) { gosym_agreement("pie"); }
Test(sym_gosym, trimpath, .timeout = 240) { gosym_agreement("trimpath"); }
Test(sym_gosym, cgo_external, .timeout = 240) { gosym_agreement("cgoext"); }
Test(sym_gosym, cgo_pie_external, .timeout = 240) { gosym_agreement("cgopie"); }
Test(sym_gosym, race, .timeout = 240) { gosym_agreement("race"); }
/* GOARCH=arm64 builds (PC quantum 4), read on this machine (not run: no runtime test) */
Test(sym_gosym, arm64, .timeout = 240) { gosym_agreement("arm64"); }

/* One frame printed by the fixture from runtime.CallersFrames. */
struct rt_frame {
	uint64_t pc;
	char func[512];
	char file[512];
	unsigned long line;
};

/* Starts "<path> frames wait": returns its pid; *out gets everything it printed before "E". */
static pid_t spawn_frames_wait(const char *path, char **out, FILE **to_child)
{
	int in[2], outp[2];
	pid_t pid;
	FILE *from;
	size_t cap = 1 << 16, len = 0;
	char line[2048];

	cr_assert(pipe(in) == 0 && pipe(outp) == 0);
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(outp[1], 1);
		close(in[1]);
		close(outp[0]);
		execl(path, path, "frames", "wait", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	*to_child = fdopen(in[1], "w");
	from = fdopen(outp[0], "r");
	*out = malloc(cap);
	(*out)[0] = '\0';
	while (fgets(line, sizeof(line), from) && strcmp(line, "E\n") != 0) {
		size_t n = strlen(line);

		if (len + n + 1 > cap)
			*out = realloc(*out, cap *= 2);
		memcpy(*out + len, line, n + 1);
		len += n;
	}
	fclose(from);
	return pid;
}

/*
 * Checks every frame and inline chain the Go runtime printed against ours. With live,
 * the fixture stays running and its run-time PCs go through goprof_symbolizer (maps, load
 * bias, binary cache), as the CPU profiler uses it; otherwise through the binary with the
 * bias computed from the mapping address the fixture printed.
 */
static void runtime_frames(const char *path, bool live, size_t *nframes, size_t *nchains, size_t *ninl)
{
	char *cmd = NULL, *out, *line, *save = NULL;
	struct rt_frame *fr = calloc(256, sizeof(*fr));
	size_t nfr = 0;
	uint64_t base = 0, bias;
	struct goprof_binary *bin = goprof_binary_open(path, NULL);
	struct goprof_symbolizer *sym = goprof_symbolizer_new(NULL);
	FILE *to_child = NULL;
	pid_t pid = 0;
	int st;

	cr_assert(bin && sym, "%s: %s", path, goprof_last_error());
	if (live) {
		pid = spawn_frames_wait(path, &out, &to_child);
	} else {
		if (asprintf(&cmd, "'%s' frames", path) < 0)
			abort();
		out = symt_capture(cmd, &st);
		cr_assert(out && st == 0, "%s failed", cmd);
	}
	for (line = strtok_r(out, "\n", &save);; line = strtok_r(NULL, "\n", &save)) {
		if (line && line[0] == 'B') {
			base = strtoull(line + 2, NULL, 16);
			continue;
		}
		if (line && line[0] == 'F' && nfr < 256) {
			struct rt_frame *f = &fr[nfr++];
			char *p = line + 2, *t1, *t2;

			f->pc = strtoull(p, &p, 16);
			strtoull(p, &p, 16); /* entry */
			p++;
			t1 = strchr(p, '\t');
			t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
			cr_assert(t1 && t2, "bad fixture line %s", line);
			snprintf(f->func, sizeof(f->func), "%.*s", (int)(t1 - p), p);
			snprintf(f->file, sizeof(f->file), "%.*s", (int)(t2 - t1 - 1), t1 + 1);
			f->line = strtoul(t2 + 1, NULL, 10);
			continue;
		}
		/* End of a stack: walk it chain by chain. */
		bias = base - bin->elf.first_load_vaddr;
		for (size_t k = 0; k < nfr;) {
			struct goprof_frame ours[80];
			int n = live ? gp_symbolize_pid(sym, pid, fr[k].pc, ours, 80)
				     : goprof_binary_symbolize_addr(bin, fr[k].pc - bias, ours, 80, sizeof(ours[0]));

			cr_assert(n > 0, "%s: no frames for runtime pc %llx (%s)", path,
				  (unsigned long long)fr[k].pc, fr[k].func);
			(*nchains)++;
			for (int j = 0; j < n; j++) {
				char name[512];
				const struct rt_frame *r = &fr[k + (size_t)j];

				cr_assert(k + (size_t)j < nfr, "%s: pc %llx: our chain of %d frames is longer than "
					  "the runtime's", path, (unsigned long long)fr[k].pc, n);
				symt_print_name(ours[j].function, name, sizeof(name));
				cr_expect_str_eq(name, r->func, "%s: pc %llx frame %d", path,
						 (unsigned long long)fr[k].pc, j);
				cr_expect_str_eq(ours[j].file ? ours[j].file : "", r->file, "%s: pc %llx frame %d (%s)",
						 path, (unsigned long long)fr[k].pc, j, r->func);
				cr_expect_eq(ours[j].line, r->line, "%s: pc %llx frame %d (%s)", path,
					     (unsigned long long)fr[k].pc, j, r->func);
				cr_expect_eq(!!(ours[j].flags & GOPROF_FRAME_INLINED), j < n - 1,
					     "%s: pc %llx frame %d inlined flag", path, (unsigned long long)fr[k].pc, j);
				if (live)
					cr_expect_eq(ours[j].addr, fr[k].pc, "run-time address kept");
				*ninl += j < n - 1;
				(*nframes)++;
			}
			k += (size_t)n;
		}
		nfr = 0;
		if (!line)
			break;
	}
	if (live) {
		fclose(to_child);
		waitpid(pid, NULL, 0);
	}
	free(out);
	free(cmd);
	free(fr);
	goprof_symbolizer_free(sym);
	goprof_binary_free(bin);
}

static void runtime_frames_mode(const char *mode)
{
	char **vers;
	size_t nv = symt_go_versions(&vers);

	for (size_t v = 0; v < nv; v++) {
		for (int s = 0; s < 4; s++) {
			char *p = symt_fixture(vers[v], mode, s & 1);
			size_t nframes = 0, nchains = 0, ninl = 0;

			runtime_frames(p, s >= 2, &nframes, &nchains, &ninl);
			fprintf(stderr, "runtime.CallersFrames go%s %-8s %-8s %-7s: %zu frames in %zu chains "
				"(%zu inlined) equal\n", vers[v], mode, s & 1 ? "stripped" : "plain",
				s >= 2 ? "via pid" : "file", nframes, nchains, ninl);
			cr_expect_gt(ninl, 5, "%s: the fixture should exercise inline chains", p);
			free(p);
		}
	}
}

Test(sym_runtime, default_mode, .timeout = 120) { runtime_frames_mode("default"); }
Test(sym_runtime, ldflags_s_w, .timeout = 120) { runtime_frames_mode("sw"); }
Test(sym_runtime, pie, .timeout = 120) { runtime_frames_mode("pie"); }
Test(sym_runtime, trimpath, .timeout = 120) { runtime_frames_mode("trimpath"); }
Test(sym_runtime, cgo_external, .timeout = 120) { runtime_frames_mode("cgoext"); }
Test(sym_runtime, cgo_pie_external, .timeout = 120) { runtime_frames_mode("cgopie"); }
Test(sym_runtime, race, .timeout = 120) { runtime_frames_mode("race"); }

static char *trim(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
	return s;
}

/* Build IDs and build info against `go tool buildid`, `go version -m` and readelf. */
Test(sym_info, build_ids_and_version, .timeout = 120)
{
	char **vers;
	size_t nv = symt_go_versions(&vers);

	for (size_t v = 0; v < nv; v++) {
		for (size_t m = 0; m < symt_nmodes; m++) {
			for (int s = 0; s < 2; s++) {
				char *p = symt_fixture(vers[v], symt_modes[m], s), *cmd, *out, buf[256], prefix[32];
				struct goprof_binary *bin = goprof_binary_open(p, NULL);
				struct goprof_pclntab_info info = { .sz = sizeof(info) };
				uint8_t id[64];
				int n, st;

				cr_assert(bin, "%s: %s", p, goprof_last_error());
				cr_expect(goprof_binary_is_go(bin));
				snprintf(prefix, sizeof(prefix), "go%s.", vers[v]);
				cr_expect(goprof_binary_go_version(bin) &&
					  strncmp(goprof_binary_go_version(bin), prefix, strlen(prefix)) == 0,
					  "%s: version %s", p, goprof_binary_go_version(bin));
				/* Go's own tool reads the build ID the same file carries. */
				if (asprintf(&cmd, "/opt/libgoprof/go-%s/bin/go tool buildid '%s'", vers[v], p) < 0)
					abort();
				out = symt_capture(cmd, &st);
				cr_expect(st == 0 && goprof_binary_go_build_id(bin) &&
					  strcmp(trim(out), goprof_binary_go_build_id(bin)) == 0,
					  "%s: go build ID %s, go tool buildid says %s", p, goprof_binary_go_build_id(bin), out);
				free(out);
				free(cmd);
				n = goprof_binary_go_build_info(bin, "path", buf, sizeof(buf));
				cr_expect(n > 0 && strcmp(buf, "example.com/symfix") == 0, "%s: path %s", p, buf);
				n = goprof_binary_go_build_info(bin, "CGO_ENABLED", buf, sizeof(buf));
				cr_expect(n == 1 && buf[0] == (strncmp(symt_modes[m], "cgo", 3) == 0 || strcmp(symt_modes[m], "race") == 0 ? '1' : '0'),
					  "%s: CGO_ENABLED=%s", p, buf);
				/* GNU build ID: compare with readelf's hex when the linker wrote one. */
				if (asprintf(&cmd, "readelf -n '%s' | sed -n 's/.*Build ID: *//p' | head -1", p) < 0)
					abort();
				out = trim(symt_capture(cmd, &st));
				n = goprof_binary_gnu_build_id(bin, id, sizeof(id));
				if (*out) {
					char hex[160] = "";

					cr_expect(n > 0, "%s: readelf sees GNU build ID %s, we do not", p, out);
					for (int i = 0; i < n && i < 64; i++)
						sprintf(hex + 2 * i, "%02x", id[i]);
					cr_expect_str_eq(hex, out, "%s: GNU build ID", p);
				} else {
					cr_expect_eq(n, -ENOENT, "%s: GNU build ID where readelf sees none", p);
				}
				free(out);
				free(cmd);
				cr_expect_eq(goprof_binary_pclntab_info(bin, &info), 0);
				cr_expect_eq(info.format, strcmp(vers[v], "1.20") < 0 ? GOPROF_PCLNTAB_GO1_18 : GOPROF_PCLNTAB_GO1_20,
					     "%s: format %u", p, info.format);
				cr_expect_neq(info.moduledata, 0, "%s: moduledata not found", p);
				/* The tables' era never contradicts a real build's version; inline trees found. */
				{
					struct goprof_go_support sup = { .sz = sizeof(sup) };
					char note[256];

					cr_expect_not_null(gp_go_release_check(bin, note, sizeof(note)), "%s: %s", p, note);
					cr_expect(bin->era_min <= bin->bi.minor && bin->bi.minor <= bin->era_max,
						  "%s: era 1.%d-1.%d", p, bin->era_min, bin->era_max);
					cr_expect(bin->bi.minor < 20 || bin->bi.minor > 25 || bin->era_max == 25,
						  "%s: 1.20-1.25 moduledata not recognised", p);
					cr_expect(bin->bi.minor < 26 || bin->era_min == bin->bi.minor,
						  "%s: 1.%d moduledata not recognised (era from 1.%d)", p, bin->bi.minor,
						  bin->era_min);
					cr_expect_eq(goprof_binary_go_support(bin, &sup), 0);
					cr_expect_eq(sup.flags & (GOPROF_GO_SUPPORT_STACKS | GOPROF_GO_SUPPORT_INLINE),
						     GOPROF_GO_SUPPORT_STACKS | GOPROF_GO_SUPPORT_INLINE, "%s: %s", p, sup.note);
				}
				/* Externally linked PIE: up to 1.24 the table disappears into .data.rel.ro
				 * (stripped: only the scan finds it); 1.26+ keep a .gopclntab section. */
				if (s && strcmp(symt_modes[m], "cgopie") == 0) {
					struct gp_elf_sec sec;
					bool has_sec = gp_elf_section(&bin->elf, ".gopclntab", &sec) ||
						       gp_elf_section(&bin->elf, ".data.rel.ro.gopclntab", &sec);

					cr_expect_eq(info.found_by, has_sec ? GOPROF_PCLNTAB_FOUND_SECTION : GOPROF_PCLNTAB_FOUND_SCAN,
						     "%s: found by %u", p, info.found_by);
				}
				goprof_binary_free(bin);
				free(p);
			}
		}
	}
}

/* `go tool addr2line` (Go's own tool) on the default build: function and file:line. */
Test(sym_info, go_tool_addr2line, .timeout = 120)
{
	char **vers;
	size_t nv = symt_go_versions(&vers);

	for (size_t v = 0; v < nv; v++) {
		char *p = symt_fixture(vers[v], "default", false), *cmd, *out, *line, *save = NULL;
		char tmpl[] = "/tmp/symt-a2l-XXXXXX";
		struct symt_func *funcs;
		size_t nf = symt_oracle_funcs(p, &funcs), np, i = 0, ok = 0;
		uint64_t *pcs;
		struct goprof_binary *bin = goprof_binary_open(p, NULL);
		int fd = mkstemp(tmpl), st;
		FILE *f = fdopen(fd, "w");

		np = symt_random_pcs(funcs, nf, 2000, 77 + v, &pcs);
		for (size_t k = 0; k < np; k++)
			fprintf(f, "0x%llx\n", (unsigned long long)pcs[k]);
		fclose(f);
		if (asprintf(&cmd, "/opt/libgoprof/go-%s/bin/go tool addr2line '%s' < %s", vers[v], p, tmpl) < 0)
			abort();
		out = symt_capture(cmd, &st);
		cr_assert(out && st == 0, "%s", cmd);
		/* Output: two lines per PC, "function" then "file:line". */
		for (line = strtok_r(out, "\n", &save); line && i < np; i++) {
			char *pos = strtok_r(NULL, "\n", &save), *colon;
			struct goprof_frame fr[80];
			int n = goprof_binary_symbolize_addr(bin, pcs[i], fr, 80, sizeof(fr[0]));
			char ours[1024];

			cr_assert(pos, "short addr2line output");
			colon = strrchr(pos, ':');
			snprintf(ours, sizeof(ours), "%s", n > 0 ? fr[n - 1].function : "?");
			if (n > 0 && strcmp(ours, line) == 0 && colon &&
			    ((fr[0].line == 0 && strtol(colon + 1, NULL, 10) <= 0) ||
			     (fr[0].file && (size_t)(colon - pos) == strlen(fr[0].file) &&
			      strncmp(pos, fr[0].file, (size_t)(colon - pos)) == 0 &&
			      (unsigned long)strtol(colon + 1, NULL, 10) == fr[0].line)))
				ok++;
			else
				fprintf(stderr, "addr2line %llx: %s %s, ours %s %s:%u\n", (unsigned long long)pcs[i],
					line, pos, ours, n > 0 && fr[0].file ? fr[0].file : "", n > 0 ? fr[0].line : 0);
			line = strtok_r(NULL, "\n", &save);
		}
		fprintf(stderr, "go tool addr2line go%s: %zu/%zu PCs agree\n", vers[v], ok, np);
		cr_expect_eq(i, np);
		cr_expect_eq(ok, np, "%s: disagreement with go tool addr2line", p);
		unlink(tmpl);
		free(out);
		free(cmd);
		free(pcs);
		symt_free_funcs(funcs, nf);
		goprof_binary_free(bin);
		free(p);
	}
}
