// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* /proc/kallsyms: "ffffffff81000000 T _text" and "ffffffffc0a01000 t fn\t[mod]" lines. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "sym/kallsyms.h"

static int ksym_cmp(const void *a, const void *b)
{
	const struct gp_ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Appends s to the string pool; returns its offset or UINT32_MAX on failure. */
static uint32_t pool_add(struct gp_kallsyms *ks, size_t *cap, const char *s, size_t len)
{
	uint32_t off;

	if (ks->strings_len + len + 1 > *cap) {
		size_t ncap = *cap ? *cap * 2 : 1 << 20;
		char *p;

		while (ncap < ks->strings_len + len + 1)
			ncap *= 2;
		if (ncap > UINT32_MAX || !(p = realloc(ks->strings, ncap)))
			return UINT32_MAX;
		ks->strings = p;
		*cap = ncap;
	}
	off = (uint32_t)ks->strings_len;
	memcpy(ks->strings + off, s, len);
	ks->strings[off + len] = '\0';
	ks->strings_len += len + 1;
	return off;
}

/* Hex digits at *p (an address); *p is left past them. */
static uint64_t parse_hex(const char **p, const char *end)
{
	uint64_t v = 0;
	const char *s = *p;

	for (; s < end; s++) {
		unsigned c = (unsigned char)*s, d;

		if (c - '0' < 10)
			d = c - '0';
		else if ((c | 0x20) - 'a' < 6)
			d = (c | 0x20) - 'a' + 10;
		else
			break;
		v = v << 4 | d;
	}
	*p = s;
	return v;
}

/* One line (without its newline): a text symbol is added, anything else skipped. */
static int add_line(struct gp_kallsyms *ks, const char *line, const char *end, size_t *cap,
		    size_t *scap, char *last_mod, size_t last_mod_len, uint32_t kernel_mod,
		    uint32_t *mod_off)
{
	const char *p = line, *name, *tab;
	uint64_t addr = parse_hex(&p, end);
	size_t nlen;
	char type;

	if (p == line || end - p < 3 || p[0] != ' ' || p[2] != ' ')
		return 0;
	type = p[1];
	/* Text symbols only: those are what stacks point into. */
	if (type != 't' && type != 'T' && type != 'w' && type != 'W')
		return 0;
	name = p + 3;
	tab = memchr(name, '\t', (size_t)(end - name));
	nlen = (size_t)((tab ? tab : end) - name);
	if (ks->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 65536;
		struct gp_ksym *s = realloc(ks->syms, ncap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		ks->syms = s;
		*cap = ncap;
	}
	ks->syms[ks->n].addr = addr;
	ks->syms[ks->n].name = pool_add(ks, scap, name, nlen);
	if (ks->syms[ks->n].name == UINT32_MAX)
		return -ENOMEM;
	if (tab) {
		const char *mod = tab + 1;
		size_t mlen = (size_t)(end - mod);

		/* Lines of one module are consecutive: intern its name once. */
		if (mlen >= last_mod_len || strncmp(mod, last_mod, mlen) || last_mod[mlen]) {
			snprintf(last_mod, last_mod_len, "%.*s", (int)GP_MIN(mlen, last_mod_len - 1), mod);
			*mod_off = pool_add(ks, scap, mod, mlen);
			if (*mod_off == UINT32_MAX)
				return -ENOMEM;
		}
		ks->syms[ks->n].module = *mod_off;
	} else {
		ks->syms[ks->n].module = kernel_mod;
	}
	ks->n++;
	return 0;
}

/*
 * Read with read(2) in 64 KiB blocks and parsed in place: the kernel formats
 * /proc/kallsyms (120,000 text symbols, 5 MB on our VMs) in the read calls, and stdio's
 * 1 KiB reads of a proc file cost 90 ms where 64 KiB ones cost 50; fgets, strtoull and a
 * qsort of the already sorted table took another 30 ms. Sorted only if it is not.
 */
#define KALLSYMS_READ_BYTES (64 << 10)

int gp_kallsyms_load(struct gp_kallsyms *ks, const char *path)
{
	char last_mod[256] = "", *buf;
	size_t cap = 0, scap = 0, have = 0;
	uint32_t kernel_mod, mod_off = 0;
	bool nonzero = false, sorted = true;
	int fd, err = 0;
	ssize_t got;

	memset(ks, 0, sizeof(*ks));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gp_err(-errno, "open %s: %s", path, strerror(errno));
	/* A block and room for a line carried over from the one before (lines are short). */
	buf = malloc(2 * KALLSYMS_READ_BYTES);
	kernel_mod = pool_add(ks, &scap, "[kernel]", 8);
	if (!buf || kernel_mod == UINT32_MAX)
		goto nomem;
	while ((got = read(fd, buf + have, KALLSYMS_READ_BYTES)) > 0 || (got == 0 && have)) {
		const char *p = buf, *end = buf + have + (got > 0 ? got : 0), *nl;

		while ((nl = memchr(p, '\n', (size_t)(end - p))) || (got == 0 && p < end)) {
			const char *eol = nl ? nl : end;
			size_t before = ks->n;

			err = add_line(ks, p, eol, &cap, &scap, last_mod, sizeof(last_mod), kernel_mod,
				       &mod_off);
			if (err)
				goto nomem;
			if (ks->n != before) {
				uint64_t a = ks->syms[ks->n - 1].addr;

				nonzero |= a != 0;
				if (before && a < ks->syms[before - 1].addr)
					sorted = false;
			}
			p = nl ? nl + 1 : end;
		}
		if (got == 0)
			break;
		have = (size_t)(end - p);
		if (have >= KALLSYMS_READ_BYTES)
			have = 0; /* a line longer than a block: not kallsyms */
		memmove(buf, p, have);
	}
	err = got < 0 ? -errno : 0;
	close(fd);
	free(buf);
	if (err) {
		gp_kallsyms_free(ks);
		return gp_err(err, "read %s: %s", path, strerror(-err));
	}
	if (!ks->n) {
		gp_kallsyms_free(ks);
		return gp_err(-ENOENT, "%s: no kernel text symbols", path);
	}
	if (!nonzero) {
		gp_kallsyms_free(ks);
		return gp_err(-EACCES, "%s: addresses are hidden (kernel.kptr_restrict); needs CAP_SYSLOG "
			      "or root with kptr_restrict <= 1", path);
	}
	if (!sorted)
		qsort(ks->syms, ks->n, sizeof(*ks->syms), ksym_cmp);
	return 0;
nomem:
	close(fd);
	free(buf);
	gp_kallsyms_free(ks);
	return gp_err(-ENOMEM, "%s: out of memory", path);
}

void gp_kallsyms_free(struct gp_kallsyms *ks)
{
	free(ks->syms);
	free(ks->strings);
	memset(ks, 0, sizeof(*ks));
}

const struct gp_ksym *gp_kallsyms_find(const struct gp_kallsyms *ks, uint64_t addr)
{
	size_t lo = 0, hi = ks->n;

	if (!ks->n || addr < ks->syms[0].addr)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	/* Past the last symbol: only trust a small distance (its size is unknown). */
	if (lo == ks->n - 1 && addr - ks->syms[lo].addr > (1u << 20))
		return NULL;
	return &ks->syms[lo];
}
