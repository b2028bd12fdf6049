// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * .gopclntab parser for the four table formats (Go 1.2, 1.16, 1.18, 1.20 magics).
 * Layout facts: GUIDE section 3. Nothing here trusts an offset or a count from the
 * file: every read goes through a span check, every walk has an iteration limit.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sym/gopclntab.h"

/* Indexes of the tables we use, the same in every format that has inline trees (1.16+). */
#define PCDATA_INL_TREE_INDEX 2
#define FUNCDATA_INL_TREE 3

static bool span_has(const struct gp_span *s, uint64_t off, uint64_t n)
{
	return off <= s->len && n <= s->len - off;
}

/*
 * A NUL-terminated string at off inside s, or NULL. The linker ends the name and file
 * tables with a string's NUL, so every offset inside them has its NUL before the end: one
 * byte (in cache after the first call) answers instead of a memchr per name, which was 9%
 * of a large batch. Only a table whose last byte is not NUL is searched.
 */
static const char *span_str(const struct gp_span *s, uint64_t off)
{
	if (off >= s->len)
		return NULL;
	if (s->p[s->len - 1] != '\0' && !memchr(s->p + off, '\0', s->len - off))
		return NULL;
	return (const char *)s->p + off;
}

static uint64_t read_word(const uint8_t *p, uint8_t ptrsize)
{
	return ptrsize == 8 ? gp_le64(p) : gp_le32(p);
}

bool gp_pclntab_header_plausible(const uint8_t *p, size_t len)
{
	uint32_t magic;

	if (len < 16)
		return false;
	magic = gp_le32(p);
	if (magic != GP_PCLN_MAGIC_GO12 && magic != GP_PCLN_MAGIC_GO116 &&
	    magic != GP_PCLN_MAGIC_GO118 && magic != GP_PCLN_MAGIC_GO120)
		return false;
	return p[4] == 0 && p[5] == 0 && (p[6] == 1 || p[6] == 2 || p[6] == 4) &&
	       (p[7] == 4 || p[7] == 8);
}

/* Sets one sub-table span [start, end) of the table, checking order and bounds. */
static int set_span(struct gp_pclntab *t, struct gp_span *s, uint64_t start, uint64_t end)
{
	if (start > end || end > t->len)
		return -GOPROF_ERRNO_CORRUPT;
	s->p = t->data + start;
	s->len = end - start;
	return 0;
}

/* Byte offset of the function table inside t->pcln. */
static size_t ftab_off(const struct gp_pclntab *t)
{
	return t->format == GP_PCLN_GO12 ? 8u + t->ptrsize : 0;
}

/* Size of one function table entry. */
static size_t ftab_entsize(const struct gp_pclntab *t)
{
	return t->format >= GP_PCLN_GO118 ? 8 : 2u * t->ptrsize;
}

int gp_pclntab_parse(struct gp_pclntab *t, const uint8_t *data, size_t len, uint64_t vaddr)
{
	uint32_t magic;
	uint8_t ps;
	uint64_t w[8] = { 0 };
	int nwords, i, err;

	memset(t, 0, sizeof(*t));
	if (len < 8)
		return -GOPROF_ERRNO_NOT_GO;
	magic = gp_le32(data);
	switch (magic) {
	case GP_PCLN_MAGIC_GO12: t->format = GP_PCLN_GO12; nwords = 1; break;
	case GP_PCLN_MAGIC_GO116: t->format = GP_PCLN_GO116; nwords = 7; break;
	case GP_PCLN_MAGIC_GO118: t->format = GP_PCLN_GO118; nwords = 8; break;
	case GP_PCLN_MAGIC_GO120: t->format = GP_PCLN_GO120; nwords = 8; break;
	default:
		/* A 0xfffffffX magic we do not know is most likely a newer Go release. */
		if ((magic & 0xfffffff0u) == 0xfffffff0u && data[4] == 0 && data[5] == 0)
			return -GOPROF_ERRNO_GO_VERSION;
		return -GOPROF_ERRNO_NOT_GO;
	}
	if (data[4] || data[5] || !(data[6] == 1 || data[6] == 2 || data[6] == 4) ||
	    !(data[7] == 4 || data[7] == 8))
		return -GOPROF_ERRNO_CORRUPT;
	t->data = data;
	t->len = len;
	t->vaddr = vaddr;
	t->inl_funcdata = t->format == GP_PCLN_GO12 ? -1 : FUNCDATA_INL_TREE;
	t->quantum = data[6];
	t->ptrsize = ps = data[7];
	if (len < 8 + (size_t)nwords * ps)
		return -GOPROF_ERRNO_CORRUPT;
	for (i = 0; i < nwords; i++)
		w[i] = read_word(data + 8 + (size_t)i * ps, ps);
	t->nfunc = w[0];
	if (t->format == GP_PCLN_GO12) {
		uint64_t ftoff = 8 + ps, fileoff_at, fileoff, nfiles;

		/* The whole table is the name, pc-value and function space. */
		if ((err = set_span(t, &t->funcnames, 0, len)) || (err = set_span(t, &t->pctab, 0, len)) ||
		    (err = set_span(t, &t->pcln, 0, len)))
			return err;
		if (t->nfunc > len / (2u * ps))
			return -GOPROF_ERRNO_CORRUPT;
		/* After nfunc pairs and the end PC comes the u32 offset of the file table. */
		fileoff_at = ftoff + (2 * t->nfunc + 1) * ps;
		if (fileoff_at + 4 > len)
			return -GOPROF_ERRNO_CORRUPT;
		fileoff = gp_le32(data + fileoff_at);
		if (fileoff + 4 > len)
			return -GOPROF_ERRNO_CORRUPT;
		nfiles = gp_le32(data + fileoff);
		if (nfiles > (len - fileoff) / 4)
			return -GOPROF_ERRNO_CORRUPT;
		t->nfiles = nfiles;
		return set_span(t, &t->filetab, fileoff, fileoff + nfiles * 4);
	}
	t->nfiles = w[1];
	i = 2;
	if (t->format >= GP_PCLN_GO118)
		t->text_start = w[i++];
	/* funcname, cu, filetab, pctab, pcln: the linker writes them in this order. */
	if ((err = set_span(t, &t->funcnames, w[i], w[i + 1])) ||
	    (err = set_span(t, &t->cutab, w[i + 1], w[i + 2])) ||
	    (err = set_span(t, &t->filetab, w[i + 2], w[i + 3])) ||
	    (err = set_span(t, &t->pctab, w[i + 3], w[i + 4])) ||
	    (err = set_span(t, &t->pcln, w[i + 4], len)))
		return err;
	if (w[i] < 8 + (uint64_t)nwords * ps)
		return -GOPROF_ERRNO_CORRUPT;
	if (t->nfunc > t->pcln.len / ftab_entsize(t))
		return -GOPROF_ERRNO_CORRUPT;
	return 0;
}

bool gp_pclntab_entry(const struct gp_pclntab *t, uint64_t i, uint64_t *pc)
{
	uint64_t off = ftab_off(t) + i * ftab_entsize(t);

	if (i > t->nfunc)
		return false;
	if (t->format >= GP_PCLN_GO118) {
		if (!span_has(&t->pcln, off, 4))
			return false;
		*pc = t->text_start + gp_le32(t->pcln.p + off);
		return true;
	}
	if (!span_has(&t->pcln, off, t->ptrsize))
		return false;
	*pc = read_word(t->pcln.p + off, t->ptrsize);
	return true;
}

/* Offset of function i's _func record inside t->pcln. */
static bool func_off(const struct gp_pclntab *t, uint64_t i, uint64_t *off)
{
	uint64_t at = ftab_off(t) + i * ftab_entsize(t);

	if (i >= t->nfunc)
		return false;
	if (t->format >= GP_PCLN_GO118) {
		if (!span_has(&t->pcln, at + 4, 4))
			return false;
		*off = gp_le32(t->pcln.p + at + 4);
		return true;
	}
	if (!span_has(&t->pcln, at + t->ptrsize, t->ptrsize))
		return false;
	*off = read_word(t->pcln.p + at + t->ptrsize, t->ptrsize);
	return true;
}

int gp_pclntab_validate(struct gp_pclntab *t)
{
	uint64_t i, prev = 0, pc, off;

	gp_pclntab_free(t);
	if (t->nfunc == 0)
		return -GOPROF_ERRNO_CORRUPT;
	for (i = 0; i <= t->nfunc; i++) {
		if (!gp_pclntab_entry(t, i, &pc) || (i && pc < prev))
			return -GOPROF_ERRNO_CORRUPT;
		prev = pc;
		if (i < t->nfunc && (!func_off(t, i, &off) || off >= t->pcln.len))
			return -GOPROF_ERRNO_CORRUPT;
	}
	t->nindex = (size_t)((t->nfunc + GP_PCLN_INDEX_STRIDE - 1) / GP_PCLN_INDEX_STRIDE);
	t->index = malloc(t->nindex * sizeof(*t->index));
	if (!t->index) {
		t->nindex = 0;
		return -ENOMEM;
	}
	for (i = 0; i < t->nindex; i++)
		gp_pclntab_entry(t, i * GP_PCLN_INDEX_STRIDE, &t->index[i]);
	return 0;
}

void gp_pclntab_free(struct gp_pclntab *t)
{
	free(t->index);
	t->index = NULL;
	t->nindex = 0;
}

/* Entry PC i without bounds checks: only for i <= nfunc after gp_pclntab_validate(). */
static inline uint64_t entry_unchecked(const struct gp_pclntab *t, uint64_t i)
{
	const uint8_t *p = t->pcln.p + ftab_off(t) + i * ftab_entsize(t);

	if (t->format >= GP_PCLN_GO118)
		return t->text_start + gp_le32(p);
	return read_word(p, t->ptrsize);
}

int64_t gp_pclntab_find_hint(const struct gp_pclntab *t, uint64_t pc, int64_t hint)
{
	/*
	 * Sorted batches look up PCs at or after the hinted function: gallop forwards from it
	 * (1, 2, 4, ... functions) and binary-search the last step, which costs the log of the
	 * distance instead of a search of the whole table (a sparse batch skips dozens).
	 */
	if (t->nindex && hint >= 0 && (uint64_t)hint < t->nfunc && entry_unchecked(t, (uint64_t)hint) <= pc) {
		uint64_t lo = (uint64_t)hint, hi, step = 1; /* entry(lo) <= pc */

		for (;;) {
			hi = GP_MIN(lo + step, t->nfunc);
			if (pc < entry_unchecked(t, hi))
				break; /* entry(hi) > pc */
			if (hi == t->nfunc)
				return -1; /* at or past the end PC */
			lo = hi;
			step *= 2;
		}
		while (hi - lo > 1) {
			uint64_t mid = lo + (hi - lo) / 2;

			if (entry_unchecked(t, mid) <= pc)
				lo = mid;
			else
				hi = mid;
		}
		return (int64_t)lo;
	}
	return gp_pclntab_find(t, pc);
}

int64_t gp_pclntab_find(const struct gp_pclntab *t, uint64_t pc)
{
	uint64_t lo = 0, hi = t->nfunc, first, end, e;

	if (!t->nfunc || !gp_pclntab_entry(t, 0, &first) || !gp_pclntab_entry(t, t->nfunc, &end))
		return -1;
	if (pc < first || pc >= end)
		return -1;
	if (t->nindex) {
		/* Narrow [lo, hi) to one stride with the index: largest j with index[j] <= pc. */
		size_t a = 0, b = t->nindex;

		while (b - a > 1) {
			size_t mid = a + (b - a) / 2;

			if (t->index[mid] <= pc)
				a = mid;
			else
				b = mid;
		}
		lo = (uint64_t)a * GP_PCLN_INDEX_STRIDE;
		hi = GP_MIN(lo + GP_PCLN_INDEX_STRIDE, t->nfunc);
	}
	/* Largest i with entry(i) <= pc. */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		/* The index exists only for validated tables, where every entry is in bounds. */
		if (t->nindex)
			e = entry_unchecked(t, mid);
		else if (!gp_pclntab_entry(t, mid, &e))
			return -1;
		if (e <= pc)
			lo = mid;
		else
			hi = mid;
	}
	return (int64_t)lo;
}

int gp_pclntab_func(const struct gp_pclntab *t, uint64_t i, struct gp_func *f)
{
	uint64_t off;
	const uint8_t *r;
	size_t n, ps = t->ptrsize, fixed;

	memset(f, 0, sizeof(*f));
	if (t->nindex && t->format >= GP_PCLN_GO118 && i < t->nfunc) {
		/*
		 * Validated 1.18+ table: entry i, its record offset and entry i + 1 are in bounds
		 * and the offset is inside pcln; read them straight (this ran once per lookup).
		 */
		const uint8_t *e = t->pcln.p + i * 8;

		f->entry = t->text_start + gp_le32(e);
		off = gp_le32(e + 4);
		f->end = t->text_start + gp_le32(e + 8);
	} else if (!func_off(t, i, &off) || off >= t->pcln.len || !gp_pclntab_entry(t, i, &f->entry) ||
		   !gp_pclntab_entry(t, i + 1, &f->end)) {
		return -GOPROF_ERRNO_CORRUPT;
	}
	r = t->pcln.p + off;
	n = t->pcln.len - off;
	f->rec = r;
	f->rec_len = n;
	switch (t->format) {
	case GP_PCLN_GO120:
	case GP_PCLN_GO118:
		fixed = t->format == GP_PCLN_GO120 ? 44 : 40;
		if (n < fixed)
			return -GOPROF_ERRNO_CORRUPT;
		/* The record's own entry offset must agree with the function table. */
		if (t->text_start + gp_le32(r) != f->entry)
			return -GOPROF_ERRNO_CORRUPT;
		f->nameoff = gp_le32(r + 4);
		f->pcfile = gp_le32(r + 20);
		f->pcln = gp_le32(r + 24);
		f->npcdata = gp_le32(r + 28);
		f->cu_offset = gp_le32(r + 32);
		if (t->format == GP_PCLN_GO120) {
			f->start_line = gp_le32(r + 36);
			f->funcid = r[40];
			f->nfuncdata = r[43];
		} else {
			f->funcid = r[36];
			f->nfuncdata = r[39];
		}
		f->pcdata_off = fixed;
		if (f->npcdata > n / 4)
			return -GOPROF_ERRNO_CORRUPT;
		f->funcdata_off = fixed + 4 * (size_t)f->npcdata;
		break;
	case GP_PCLN_GO116:
	case GP_PCLN_GO12:
		/* entry uintptr, then 4-byte fields; 1.16 adds cuOffset before funcID. */
		fixed = ps + (t->format == GP_PCLN_GO116 ? 36 : 32);
		if (n < fixed)
			return -GOPROF_ERRNO_CORRUPT;
		if (read_word(r, t->ptrsize) != f->entry)
			return -GOPROF_ERRNO_CORRUPT;
		f->nameoff = gp_le32(r + ps);
		f->pcfile = gp_le32(r + ps + 16);
		f->pcln = gp_le32(r + ps + 20);
		f->npcdata = gp_le32(r + ps + 24);
		if (t->format == GP_PCLN_GO116) {
			f->cu_offset = gp_le32(r + ps + 28);
			f->funcid = r[ps + 32];
			f->nfuncdata = r[ps + 35];
		} else {
			f->funcid = r[ps + 28];
			f->nfuncdata = r[ps + 31];
		}
		f->pcdata_off = fixed;
		if (f->npcdata > n / 4)
			return -GOPROF_ERRNO_CORRUPT;
		/* funcdata are pointers, aligned to the pointer size (records are aligned). */
		f->funcdata_off = (fixed + 4 * (size_t)f->npcdata + ps - 1) & ~(ps - 1);
		break;
	default:
		return -GOPROF_ERRNO_CORRUPT;
	}
	return 0;
}

const char *gp_pclntab_funcname(const struct gp_pclntab *t, uint32_t nameoff)
{
	return span_str(&t->funcnames, nameoff);
}

uint32_t gp_pclntab_pcdata(const struct gp_pclntab *t, const struct gp_func *f, uint32_t i)
{
	size_t off = f->pcdata_off + 4 * (size_t)i;

	if (i >= f->npcdata || off + 4 > f->rec_len)
		return 0;
	return gp_le32(f->rec + off);
}

const char *gp_pclntab_file(const struct gp_pclntab *t, const struct gp_func *f, int32_t fileno)
{
	uint64_t idx;
	uint32_t off;

	if (fileno < 0)
		return NULL;
	if (t->format == GP_PCLN_GO12) {
		/* filetab[0] is the count; filetab[i] the offset of file i from the table start. */
		if (fileno == 0 || (uint64_t)fileno >= t->nfiles)
			return NULL;
		off = gp_le32(t->filetab.p + 4 * (size_t)fileno);
		return span_str(&t->funcnames, off);
	}
	idx = (uint64_t)f->cu_offset + (uint64_t)fileno;
	if (!span_has(&t->cutab, idx * 4, 4))
		return NULL;
	off = gp_le32(t->cutab.p + idx * 4);
	if (off == UINT32_MAX)
		return NULL;
	return span_str(&t->filetab, off);
}

/* Reads a Go varint (at most 5 bytes for a uint32). Inlined: it is the hottest loop. */
static inline __attribute__((always_inline)) bool read_uvarint(const uint8_t **pp, const uint8_t *end, uint32_t *out)
{
	const uint8_t *p = *pp;
	uint32_t v = 0;
	unsigned shift = 0;

	/* Most deltas fit in one byte. */
	if (p < end && !(*p & 0x80)) {
		*out = *p;
		*pp = p + 1;
		return true;
	}
	while (p < end && shift < 35) {
		uint8_t b = *p++;

		v |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*pp = p;
			*out = v;
			return true;
		}
		shift += 7;
	}
	return false;
}

/*
 * pc-value decoding with an optional cursor: resumes where the cursor stopped when pc is
 * at or after the cursor's range in the same table and function; records where it stops.
 *
 * A batch decodes about 18 pairs per address, and this loop was 40% of a large batch.
 * Nearly every pair is two one-byte varints, so the loop tests both bytes at once and
 * takes the general decoder only for longer varints or the last bytes of the table.
 * After the first pair, a zero value delta ends the table.
 */
static bool pcvalue_cursor(const struct gp_pclntab *t, const struct gp_func *f, uint32_t off, uint64_t pc,
			   int32_t *val, struct gp_pcv_cursor *c)
{
	const uint8_t *p, *end;
	uint64_t cur = f->entry, prev;
	const uint64_t quantum = t->quantum;
	uint32_t uvdelta, pcdelta;
	int32_t v = -1;

	*val = -1;
	if (off == 0)
		return true; /* no table: no value */
	if (off >= t->pctab.len)
		return false;
	end = t->pctab.p + t->pctab.len;
	if (c && c->off == off && c->entry == f->entry && pc >= c->lo) {
		if (pc < c->hi) {
			*val = c->val;
			return true;
		}
		if (!c->p)
			return true; /* beyond the end of the table */
		p = c->p;
		cur = c->hi;
		v = c->val;
	} else {
		/* The first pair: its value delta may be 0. */
		p = t->pctab.p + off;
		if (!read_uvarint(&p, end, &uvdelta) || !read_uvarint(&p, end, &pcdelta))
			return false;
		v = (int32_t)((uint32_t)v + (uint32_t)((int32_t)(uvdelta >> 1) ^ -(int32_t)(uvdelta & 1)));
		prev = cur;
		cur += (uint64_t)pcdelta * quantum;
		if (pc < cur)
			goto found;
	}
	/* Each pair consumes at least 2 bytes, so the loop ends within the table. */
	for (;;) {
		if (end - p >= 2 && !((p[0] | p[1]) & 0x80)) {
			uvdelta = p[0];
			pcdelta = p[1];
			p += 2;
			if (uvdelta == 0)
				break;
		} else {
			if (p >= end || !read_uvarint(&p, end, &uvdelta))
				return false;
			if (uvdelta == 0)
				break;
			if (!read_uvarint(&p, end, &pcdelta))
				return false;
		}
		v = (int32_t)((uint32_t)v + (uint32_t)((int32_t)(uvdelta >> 1) ^ -(int32_t)(uvdelta & 1)));
		prev = cur;
		cur += (uint64_t)pcdelta * quantum;
		if (pc < cur)
			goto found;
	}
	/* End of table: pc not covered. */
	if (c)
		*c = (struct gp_pcv_cursor){ .entry = f->entry, .p = NULL, .lo = cur, .hi = cur, .off = off, .val = -1 };
	return true;
found:
	if (c)
		*c = (struct gp_pcv_cursor){ .entry = f->entry, .p = p, .lo = prev, .hi = cur, .off = off, .val = v };
	*val = v;
	return true;
}

bool gp_pclntab_pcvalue(const struct gp_pclntab *t, const struct gp_func *f, uint32_t off,
			uint64_t pc, int32_t *val)
{
	return pcvalue_cursor(t, f, off, pc, val, NULL);
}

/* Inline tree bytes of f (NULL if none): 1.18+ offset from gofunc, 1.16 absolute pointer. */
static const uint8_t *inline_tree(const struct gp_pclntab *t, const struct gp_func *f, size_t *len)
{
	size_t at;
	const uint8_t *p;

	*len = 0;
	if (t->inl_funcdata < 0 || f->nfuncdata <= (unsigned)t->inl_funcdata || f->npcdata <= PCDATA_INL_TREE_INDEX)
		return NULL;
	at = f->funcdata_off + (size_t)t->inl_funcdata * (t->format >= GP_PCLN_GO118 ? 4 : t->ptrsize);
	if (t->format >= GP_PCLN_GO118) {
		uint32_t off;

		if (at + 4 > f->rec_len)
			return NULL;
		off = gp_le32(f->rec + at);
		if (off == UINT32_MAX || off >= t->gofunc.len)
			return NULL;
		*len = t->gofunc.len - off;
		return t->gofunc.p + off;
	}
	if (at + t->ptrsize > f->rec_len || !t->vmem)
		return NULL;
	*len = gp_vmem_avail(t->vmem, read_word(f->rec + at, t->ptrsize), &p);
	return *len ? p : NULL;
}

int gp_pclntab_lookup(const struct gp_pclntab *t, uint64_t pc, struct gp_go_frame *frames, int max)
{
	return gp_pclntab_lookup_hint(t, pc, frames, max, NULL);
}

int gp_pclntab_lookup_hint(const struct gp_pclntab *t, uint64_t pc, struct gp_go_frame *frames, int max,
			   struct gp_lookup_hint *hint)
{
	struct gp_go_frame tmp[GP_MAX_INLINE_DEPTH + 1];
	struct gp_func f;
	const uint8_t *tree;
	size_t tree_len, recsz = t->format == GP_PCLN_GO120 ? 16 : 20;
	uint32_t inl_tab;
	uint64_t cur = pc;
	int32_t prev_ix = -1;
	int64_t idx = hint ? gp_pclntab_find_hint(t, pc, hint->func) : gp_pclntab_find(t, pc);
	int n = 0, i;

	if (idx < 0)
		return 0;
	if (hint)
		hint->func = idx;
	if (gp_pclntab_func(t, (uint64_t)idx, &f))
		return -GOPROF_ERRNO_CORRUPT;
	tree = inline_tree(t, &f, &tree_len);
	inl_tab = tree ? gp_pclntab_pcdata(t, &f, PCDATA_INL_TREE_INDEX) : 0;
	for (;;) {
		int32_t ix = -1, fileno, line;
		struct gp_go_frame *fr = &tmp[n];
		bool lost_call_site = false;

		/* Cursors only for the looked-up PC: parent PCs jump backwards. */
		struct gp_pcv_cursor *cs = hint && n == 0 ? hint->cur : NULL;

		if ((inl_tab && !pcvalue_cursor(t, &f, inl_tab, cur, &ix, cs ? &cs[0] : NULL)) ||
		    !pcvalue_cursor(t, &f, f.pcfile, cur, &fileno, cs ? &cs[1] : NULL) ||
		    !pcvalue_cursor(t, &f, f.pcln, cur, &line, cs ? &cs[2] : NULL))
			return -GOPROF_ERRNO_CORRUPT;
		/*
		 * The compiler leaves parentPc 0 when it dropped an inlined call's marker
		 * instruction; if the function entry itself lies in that inlined body, the walk
		 * comes back to the same index (seen in Go 1.24 binaries, e.g. docker's package
		 * init functions). The runtime would repeat the frame; we end the chain with the
		 * physical function, whose call-site line is then unknown.
		 */
		if (n > 0 && ix >= 0 && ix == prev_ix) {
			ix = -1;
			lost_call_site = true;
		}
		prev_ix = ix;
		memset(fr, 0, sizeof(*fr));
		fr->entry = f.entry;
		fr->file = lost_call_site ? NULL : gp_pclntab_file(t, &f, fileno);
		fr->line = line > 0 && fr->file ? (uint32_t)line : 0;
		if (!fr->line)
			fr->file = NULL; /* padding or a PC without position: function only */
		if (ix < 0) {
			fr->function = gp_pclntab_funcname(t, f.nameoff);
			fr->start_line = f.start_line;
			if (!fr->function)
				return -GOPROF_ERRNO_CORRUPT;
			n++;
			break;
		}
		if (n == GP_MAX_INLINE_DEPTH || (uint64_t)ix >= tree_len / recsz)
			return -GOPROF_ERRNO_CORRUPT; /* a longer loop, or an index out of the tree */
		{
			const uint8_t *rec = tree + (size_t)ix * recsz;
			uint32_t nameoff = gp_le32(rec + (t->format == GP_PCLN_GO120 ? 4 : 12));
			uint32_t parent_pc = gp_le32(rec + (t->format == GP_PCLN_GO120 ? 8 : 16));

			fr->function = gp_pclntab_funcname(t, nameoff);
			fr->start_line = t->format == GP_PCLN_GO120 ? gp_le32(rec + 12) : 0;
			fr->inlined = true;
			if (!fr->function)
				return -GOPROF_ERRNO_CORRUPT;
			cur = f.entry + parent_pc;
			if (cur >= f.end)
				return -GOPROF_ERRNO_CORRUPT;
		}
		n++;
	}
	for (i = 0; i < n && i < max; i++)
		frames[i] = tmp[i];
	return n;
}
