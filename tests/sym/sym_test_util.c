// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <goprof/error.h>

#include "sym/symbolizer_internal.h"
#include "sym_test_util.h"

const char *const symt_modes[] = { "default", "sw", "pie", "trimpath", "cgoext", "cgopie", "race" };
const size_t symt_nmodes = sizeof(symt_modes) / sizeof(symt_modes[0]);

static const char *env_or_die(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v) {
		fprintf(stderr, "environment variable %s is not set (run through meson test)\n", name);
		exit(2);
	}
	return v;
}

const char *symt_fixture_dir(void)
{
	return env_or_die("GOPROF_SYM_FIXTURES");
}

const char *symt_oracle(void)
{
	return env_or_die("GOPROF_SYM_ORACLE");
}

size_t symt_go_versions(char ***out)
{
	char *s = strdup(env_or_die("GOPROF_GO_VERSIONS")), *tok, *save = NULL;
	size_t n = 0;

	*out = calloc(16, sizeof(char *));
	for (tok = strtok_r(s, " ,", &save); tok && n < 16; tok = strtok_r(NULL, " ,", &save))
		(*out)[n++] = strdup(tok);
	free(s);
	return n;
}

char *symt_fixture(const char *ver, const char *mode, bool stripped)
{
	char *p;

	if (asprintf(&p, "%s/symfix-%s-%s%s", symt_fixture_dir(), ver, mode, stripped ? ".stripped" : "") < 0)
		abort();
	return p;
}

char *symt_capture(const char *cmd, int *status)
{
	FILE *f = popen(cmd, "r");
	size_t cap = 1 << 16, len = 0, r;
	char *buf;
	int st;

	if (!f)
		return NULL;
	buf = malloc(cap);
	while ((r = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += r;
		if (cap - len < 4096)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	st = pclose(f);
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return buf;
}

size_t symt_oracle_funcs(const char *bin, struct symt_func **out)
{
	char *cmd, *txt, *line, *save = NULL;
	size_t n = 0, cap = 1024;
	int st;

	if (asprintf(&cmd, "'%s' '%s' funcs", symt_oracle(), bin) < 0)
		abort();
	txt = symt_capture(cmd, &st);
	free(cmd);
	*out = malloc(cap * sizeof(**out));
	if (!txt || st != 0) {
		free(txt);
		return 0;
	}
	for (line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *name = strrchr(line, '\t');

		if (!name)
			continue;
		if (n == cap)
			*out = realloc(*out, (cap *= 2) * sizeof(**out));
		(*out)[n].entry = strtoull(line, NULL, 16);
		(*out)[n].end = strtoull(strchr(line, '\t') + 1, NULL, 16);
		(*out)[n].name = strdup(name + 1);
		n++;
	}
	free(txt);
	return n;
}

void symt_free_funcs(struct symt_func *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(f[i].name);
	free(f);
}

size_t symt_oracle_answers(const char *bin, const uint64_t *pcs, size_t n, struct symt_answer *out)
{
	char tmpl[] = "/tmp/symt-pcs-XXXXXX", *cmd, *txt, *line, *save = NULL;
	int fd = mkstemp(tmpl), st;
	FILE *f;
	size_t k = 0;

	if (fd < 0)
		return 0;
	f = fdopen(fd, "w");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%llx\n", (unsigned long long)pcs[i]);
	fclose(f);
	if (asprintf(&cmd, "'%s' '%s' < %s", symt_oracle(), bin, tmpl) < 0)
		abort();
	txt = symt_capture(cmd, &st);
	free(cmd);
	unlink(tmpl);
	if (!txt)
		return 0;
	for (line = strtok_r(txt, "\n", &save); line && k < n; line = strtok_r(NULL, "\n", &save)) {
		char *f1 = strchr(line, '\t'), *f2, *f3;

		if (!f1 || !(f2 = strchr(f1 + 1, '\t')) || !(f3 = strchr(f2 + 1, '\t')))
			continue;
		*f1 = *f2 = *f3 = '\0';
		out[k].pc = strtoull(line, NULL, 16);
		out[k].func = strdup(f1 + 1);
		out[k].file = strdup(f2 + 1);
		out[k].line = strtol(f3 + 1, NULL, 10);
		k++;
	}
	free(txt);
	return k;
}

void symt_free_answers(struct symt_answer *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].func);
		free(a[i].file);
	}
}

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64*: reproducible from the seed printed by the tests. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

size_t symt_pick_pcs(const struct symt_func *f, size_t nf, size_t per_func, uint64_t seed, uint64_t **out)
{
	size_t n = 0;

	*out = malloc(nf * (per_func + 1) * sizeof(uint64_t) + 1);
	seed |= 1;
	for (size_t i = 0; i < nf; i++) {
		(*out)[n++] = f[i].entry;
		for (size_t j = 0; j < per_func && f[i].end > f[i].entry; j++)
			(*out)[n++] = f[i].entry + rnd(&seed) % (f[i].end - f[i].entry);
	}
	return n;
}

size_t symt_random_pcs(const struct symt_func *f, size_t nf, size_t n, uint64_t seed, uint64_t **out)
{
	size_t k = 0;

	*out = malloc(n * sizeof(uint64_t) + 1);
	seed |= 1;
	while (k < n && nf) {
		const struct symt_func *fn = &f[rnd(&seed) % nf];

		if (fn->end > fn->entry)
			(*out)[k++] = fn->entry + rnd(&seed) % (fn->end - fn->entry);
	}
	return k;
}

void symt_print_name(const char *in, char *out, size_t len)
{
	const char *open = strchr(in, '['), *close = strrchr(in, ']');

	if (!open || !close || close < open) {
		snprintf(out, len, "%s", in);
		return;
	}
	snprintf(out, len, "%.*s[...]%s", (int)(open - in), in, close + 1);
}

void symt_compare(const char *bin_path, const struct symt_answer *ans, size_t n, struct symt_stats *st,
		  int max_report)
{
	struct goprof_binary *bin = goprof_binary_open(bin_path, NULL);
	struct goprof_frame fr[80];
	int reported = 0;

	memset(st, 0, sizeof(*st));
	if (!bin) {
		fprintf(stderr, "%s: open failed: %s\n", bin_path, goprof_last_error());
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct symt_answer *a = &ans[i];
		int k = goprof_binary_symbolize_addr(bin, a->pc, fr, 80, sizeof(fr[0]));
		const char *outer = k > 0 ? fr[k - 1].function : "?";
		const char *file = k > 0 && fr[0].file ? fr[0].file : "";
		long line = k > 0 ? fr[0].line : 0;
		bool fok, lok;

		if (k > 0 && fr[k - 1].kind != GOPROF_FRAME_KIND_GO)
			outer = "?"; /* gosym knows Go functions only */
		fok = strcmp(outer, a->func) == 0;
		/* gosym gives line -1/0 and "" where the tables have no position (padding). */
		lok = (a->line <= 0 && line == 0) || (a->line == line && strcmp(file, a->file) == 0);
		st->n++;
		st->func_ok += fok;
		st->line_ok += lok;
		if (fok && !lok && k > 0 && line == 0 && bin->is_go) {
			struct gp_func f;
			int64_t idx = gp_pclntab_find(&bin->tab, a->pc);

			if (idx >= 0 && gp_pclntab_func(&bin->tab, (uint64_t)idx, &f) == 0 && f.pcfile == 0 &&
			    f.pcln == 0) {
				st->line_gosym_bug++;
				continue;
			}
		}
		if ((!fok || !lok) && reported++ < max_report)
			fprintf(stderr, "%s: pc %llx: gosym %s %s:%ld, libgoprof %s %s:%ld (%d frames)\n", bin_path,
				(unsigned long long)a->pc, a->func, a->file, a->line, outer, file, line, k);
	}
	goprof_binary_free(bin);
}

bool symt_copy_without_sections(const char *src, const char *dst)
{
	FILE *in = fopen(src, "rb"), *out;
	Elf64_Ehdr eh;
	char buf[1 << 16];
	size_t r;

	if (!in)
		return false;
	out = fopen(dst, "wb");
	if (!out) {
		fclose(in);
		return false;
	}
	while ((r = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, r, out);
	fclose(in);
	/* Keep the bytes, drop the section header table: loaders only use segments. */
	fseek(out, 0, SEEK_SET);
	fclose(out);
	out = fopen(dst, "r+b");
	if (!out || fread(&eh, sizeof(eh), 1, out) != 1)
		return false;
	eh.e_shoff = 0;
	eh.e_shnum = 0;
	eh.e_shstrndx = 0;
	fseek(out, 0, SEEK_SET);
	fwrite(&eh, sizeof(eh), 1, out);
	fclose(out);
	return true;
}
