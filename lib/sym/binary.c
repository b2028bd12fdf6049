// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Public goprof_binary API: open, metadata getters, lookups, function iteration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sym/symbolizer_internal.h"

int gp_binary_init(struct goprof_binary *bin, const char *path, const void *data, size_t size)
{
	int err;

	memset(bin, 0, sizeof(*bin));
	pthread_mutex_init(&bin->native_lock, NULL);
	err = data ? gp_elf_open_mem(&bin->elf, data, size) : gp_elf_open(&bin->elf, path);
	if (err) {
		pthread_mutex_destroy(&bin->native_lock);
		return err;
	}
	err = gp_go_binary_load(bin);
	if (err) {
		gp_binary_fini(bin);
		return err;
	}
	/* pprof and OTLP name mappings by build ID: GNU's in hex, else Go's. */
	{
		const uint8_t *id;
		size_t n = gp_elf_gnu_build_id(&bin->elf, &id), i;

		if (n && n <= 64)
			for (i = 0; i < n; i++)
				snprintf(bin->build_id_hex + 2 * i, 3, "%02x", id[i]);
		else if (bin->go_build_id)
			gp_strlcpy(bin->build_id_hex, bin->go_build_id, sizeof(bin->build_id_hex));
	}
	return 0;
}

void gp_binary_fini(struct goprof_binary *bin)
{
	gp_native_syms_free(&bin->native);
	gp_dwarf_lines_free(&bin->lines);
	gp_pclntab_free(&bin->tab);
	gp_buildinfo_free(&bin->bi);
	free(bin->go_build_id);
	gp_elf_close(&bin->elf);
	free(bin->vdso_copy);
	pthread_mutex_destroy(&bin->native_lock);
}

/* DWARF line rows of native code, from the binary or its separate debug file. */
static void load_native_lines(struct goprof_binary *bin)
{
	struct gp_elf_sec link;
	const uint8_t *id;
	size_t idlen = gp_elf_gnu_build_id(&bin->elf, &id);
	char fdpath[64], debuglink[256] = "";

	if (gp_elf_section(&bin->elf, ".gnu_debuglink", &link) && link.data && link.size > 1)
		snprintf(debuglink, sizeof(debuglink), "%.*s", (int)strnlen((const char *)link.data, link.size),
			 (const char *)link.data);
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", bin->elf.fd);
	gp_dwarf_lines_load(&bin->lines, fdpath, bin->elf.path, idlen ? id : NULL, idlen, debuglink);
}

/* Native symbols are loaded once, on first need, under the binary's lock. */
static const struct gp_native_syms *native_syms(struct goprof_binary *bin)
{
	if (__atomic_load_n(&bin->native_loaded, __ATOMIC_ACQUIRE))
		return &bin->native;
	pthread_mutex_lock(&bin->native_lock);
	if (!bin->native_loaded) {
		gp_native_syms_load(&bin->native, &bin->elf); /* on ENOMEM: no native symbols */
		if (bin->elf.fd >= 0)
			load_native_lines(bin); /* on failure: functions without file:line */
		__atomic_store_n(&bin->native_loaded, true, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&bin->native_lock);
	return &bin->native;
}

int gp_binary_lookup(struct goprof_binary *bin, uint64_t vaddr, struct goprof_frame *frames, int max)
{
	return gp_binary_lookup_hint(bin, vaddr, frames, max, NULL);
}

int gp_binary_lookup_hint(struct goprof_binary *bin, uint64_t vaddr, struct goprof_frame *frames, int max,
			  struct gp_lookup_hint *hint)
{
	struct gp_go_frame gf[GP_MAX_FRAMES];
	const struct gp_native_sym *ns;
	int n, i;

	if (bin->is_go) {
		n = gp_pclntab_lookup_hint(&bin->tab, vaddr, gf, GP_MAX_FRAMES, hint);
		if (n < 0)
			return gp_err(n, "%s: corrupt pclntab entry for address 0x%llx", bin->elf.path,
				      (unsigned long long)vaddr);
		if (n > 0) {
			for (i = 0; i < n && i < max; i++) {
				struct goprof_frame *f = &frames[i];

				memset(f, 0, sizeof(*f));
				f->sz = sizeof(*f);
				f->kind = GOPROF_FRAME_KIND_GO;
				f->flags = gf[i].inlined ? GOPROF_FRAME_INLINED : 0;
				f->line = gf[i].line;
				f->start_line = gf[i].start_line;
				f->frame_index = (uint32_t)i;
				f->nframes = (uint32_t)n;
				f->addr = f->vaddr = vaddr;
				f->func_addr = gf[i].entry;
				f->function = gf[i].function;
				f->file = gf[i].file;
				f->module = bin->elf.path;
			}
			return n;
		}
	}
	ns = gp_native_syms_find(native_syms(bin), vaddr);
	if (!ns)
		return 0;
	if (max > 0) {
		memset(frames, 0, sizeof(*frames));
		frames->sz = sizeof(*frames);
		frames->kind = GOPROF_FRAME_KIND_NATIVE;
		frames->nframes = 1;
		frames->addr = frames->vaddr = vaddr;
		frames->func_addr = ns->addr;
		frames->function = ns->name;
		frames->module = bin->elf.path;
		if (gp_dwarf_lines_find(&bin->lines, vaddr, &frames->file, &frames->line) && !frames->line)
			frames->file = NULL;
	}
	return 1;
}

GOPROF_API struct goprof_binary *goprof_binary_open(const char *path, const struct goprof_binary_opts *opts)
{
	struct goprof_binary *bin;
	int err;

	if (!path)
		return gp_err_null(-EINVAL, "goprof_binary_open: path is NULL");
	err = OPTS_VALID(opts, goprof_binary_opts, reserved0);
	if (err) {
		errno = -err; /* OPTS_VALID recorded the message */
		return NULL;
	}
	bin = calloc(1, sizeof(*bin));
	if (!bin)
		return gp_err_null(-ENOMEM, "goprof_binary_open: out of memory");
	err = gp_binary_init(bin, path, NULL, 0);
	if (err) {
		free(bin);
		errno = -err;
		return NULL; /* gp_binary_init recorded the message */
	}
	gp_clear_error();
	return bin;
}

GOPROF_API void goprof_binary_free(struct goprof_binary *bin)
{
	if (!bin)
		return;
	gp_binary_fini(bin);
	free(bin);
}

GOPROF_API int goprof_binary_is_go(const struct goprof_binary *bin)
{
	return bin && bin->is_go;
}

GOPROF_API const char *goprof_binary_path(const struct goprof_binary *bin)
{
	return bin ? bin->elf.path : NULL;
}

GOPROF_API const char *goprof_binary_go_version(const struct goprof_binary *bin)
{
	return bin && bin->has_bi ? bin->bi.version : NULL;
}

GOPROF_API const char *goprof_binary_go_modinfo(const struct goprof_binary *bin)
{
	return bin && bin->has_bi ? bin->bi.modinfo : NULL;
}

GOPROF_API int goprof_binary_go_build_info(const struct goprof_binary *bin, const char *key, char *buf,
					   size_t len)
{
	int n;

	if (!bin || !key || (len && !buf))
		return gp_err(-EINVAL, "goprof_binary_go_build_info: NULL argument");
	if (!bin->has_bi || !bin->bi.modinfo)
		return gp_err(-ENOENT, "%s: no Go build information", bin->elf.path);
	n = gp_modinfo_get(bin->bi.modinfo, key, false, buf, len);
	if (n < 0)
		n = gp_modinfo_get(bin->bi.modinfo, key, true, buf, len);
	if (n < 0)
		return gp_err(-ENOENT, "%s: build information has no \"%s\"", bin->elf.path, key);
	return n;
}

GOPROF_API const char *goprof_binary_go_build_id(const struct goprof_binary *bin)
{
	return bin ? bin->go_build_id : NULL;
}

GOPROF_API int goprof_binary_gnu_build_id(const struct goprof_binary *bin, uint8_t *buf, size_t len)
{
	const uint8_t *id;
	size_t n;

	if (!bin || (len && !buf))
		return gp_err(-EINVAL, "goprof_binary_gnu_build_id: NULL argument");
	n = gp_elf_gnu_build_id(&bin->elf, &id);
	if (!n || n > 1024)
		return gp_err(-ENOENT, "%s: no GNU build ID note", bin->elf.path);
	memcpy(buf, id, GP_MIN(n, len));
	return (int)n;
}

GOPROF_API int goprof_binary_pclntab_info(const struct goprof_binary *bin, struct goprof_pclntab_info *info)
{
	struct goprof_pclntab_info v;
	size_t n;

	if (!bin || !info)
		return gp_err(-EINVAL, "goprof_binary_pclntab_info: NULL argument");
	if (!bin->is_go)
		return gp_err(-GOPROF_ERRNO_NOT_GO, "%s: not a Go binary (no pclntab)", bin->elf.path);
	memset(&v, 0, sizeof(v));
	v.sz = sizeof(v);
	v.format = (uint32_t)bin->tab.format;
	v.found_by = bin->found_by;
	v.nfunc = (uint32_t)bin->tab.nfunc;
	v.addr = bin->tab.vaddr;
	v.file_offset = (uint64_t)(bin->tab.data - bin->elf.map);
	v.size = bin->tab.len;
	v.text_start = bin->tab.format >= GP_PCLN_GO118 ? bin->tab.text_start : 0;
	if (!v.text_start)
		gp_pclntab_entry(&bin->tab, 0, &v.text_start);
	v.moduledata = bin->moduledata;
	v.nfiles = (uint32_t)bin->tab.nfiles;
	v.quantum = bin->tab.quantum;
	v.ptr_size = bin->tab.ptrsize;
	n = GP_MIN((size_t)info->sz, sizeof(v));
	if (n < sizeof(uint32_t))
		return gp_err(-EINVAL, "goprof_binary_pclntab_info: info->sz not set");
	memcpy(info, &v, n);
	info->sz = (uint32_t)n;
	return 0;
}

/*
 * Batches are looked up in address order, then delivered in the caller's order: sorted
 * addresses walk the function table, the _func records and the pc-value tables mostly
 * forwards, which is several times faster on large binaries than random order (every
 * table access misses the cache and the TLB). Repeated addresses are looked up once.
 */
#define SYM_BATCH 65536
#define SYM_SMALL_BATCH 32

struct addr_result {
	uint32_t first; /* index into the frame pool */
	int32_t count;  /* frames, or a negative error */
};

/*
 * Sorts keys (address offset << 16 | position in the chunk) with an LSD radix sort of
 * 11-bit digits, skipping the digits that are equal in every key: far cheaper than qsort
 * per batch, and four passes where bytes took six for a 100 MB binary's addresses.
 * Returns the array that holds the result (keys or tmp); the other one is free then.
 */
#define RADIX_BITS 11
static uint64_t *radix_sort_u64(uint64_t *keys, uint64_t *tmp, size_t n)
{
	uint64_t all_or = 0, all_and = ~0ull, mask = (1u << RADIX_BITS) - 1;
	size_t i, count[1u << RADIX_BITS];
	unsigned shift;

	for (i = 0; i < n; i++) {
		all_or |= keys[i];
		all_and &= keys[i];
	}
	for (shift = 0; shift < 64; shift += RADIX_BITS) {
		uint64_t *swap;
		size_t sum = 0;

		if ((((all_or ^ all_and) >> shift) & mask) == 0)
			continue; /* this digit is the same everywhere */
		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(keys[i] >> shift) & mask]++;
		for (i = 0; i <= mask; i++) {
			size_t c = count[i];

			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			tmp[count[(keys[i] >> shift) & mask]++] = keys[i];
		swap = keys;
		keys = tmp;
		tmp = swap;
	}
	return keys;
}

static int symbolize_one_by_one(struct goprof_binary *bin, const uint64_t *addrs, size_t n, size_t base,
				goprof_frame_fn cb, void *ctx)
{
	struct goprof_frame frames[GP_MAX_FRAMES];
	size_t i;
	int k, j, ret;

	for (i = 0; i < n; i++) {
		k = gp_binary_lookup(bin, addrs[i], frames, GP_MAX_FRAMES);
		if (k < 0)
			return k;
		for (j = 0; j < k; j++) {
			frames[j].addr_index = base + i;
			ret = cb(&frames[j], ctx);
			if (ret)
				return ret;
		}
	}
	return 0;
}

#define DELIVERY_PREFETCH 16

/* What a batch keeps per frame until delivery (a third of struct goprof_frame). */
struct compact_frame {
	const char *function;
	const char *file;
	uint64_t func_addr;
	uint32_t line;
	uint32_t start_line;
	uint16_t kind;
	uint16_t flags;
};

static int symbolize_chunk(struct goprof_binary *bin, const uint64_t *addrs, size_t n, size_t base,
			   goprof_frame_fn cb, void *ctx, uint64_t *keys, uint64_t *tmp, struct addr_result *res,
			   struct compact_frame **pool, size_t *pool_cap)
{
	struct goprof_frame fr[GP_MAX_FRAMES];
	struct gp_go_frame gf[GP_MAX_FRAMES];
	uint64_t lo = UINT64_MAX, hi = 0, prev_addr = 0, *sorted;
	struct gp_lookup_hint hint = GP_LOOKUP_HINT_INIT;
	size_t i, used = 0;
	uint32_t prev_idx = 0;
	int j, k, ret;

	for (i = 0; i < n; i++) {
		lo = GP_MIN(lo, addrs[i]);
		hi = GP_MAX(hi, addrs[i]);
	}
	if (hi - lo >= (1ull << 48)) /* addresses too far apart to pack: keep the caller's order */
		return symbolize_one_by_one(bin, addrs, n, base, cb, ctx);
	for (i = 0; i < n; i++)
		keys[i] = (addrs[i] - lo) << 16 | i;
	sorted = radix_sort_u64(keys, tmp, n);
	for (i = 0; i < n; i++) {
		uint32_t idx = (uint32_t)(sorted[i] & 0xffff);
		uint64_t addr = lo + (sorted[i] >> 16);
		struct addr_result *r = &res[idx];

		if (i && addr == prev_addr) {
			*r = res[prev_idx];
			continue;
		}
		if (*pool_cap - used < GP_MAX_FRAMES) {
			/* Rare: a chunk of deep inline stacks outgrew the pool sized for the usual. */
			size_t ncap = *pool_cap * 2;
			struct compact_frame *np = realloc(*pool, ncap * sizeof(*np));

			if (!np)
				return gp_err(-ENOMEM, "goprof_binary_symbolize: out of memory");
			*pool = np;
			*pool_cap = ncap;
		}
		r->first = (uint32_t)used;
		/* Go functions straight from the pclntab, without a goprof_frame in between. */
		k = bin->is_go ? gp_pclntab_lookup_hint(&bin->tab, addr, gf, GP_MAX_FRAMES, &hint) : 0;
		if (k != 0) {
			r->count = k > 0 ? k
					 : gp_err(k, "%s: corrupt pclntab entry for address 0x%llx", bin->elf.path,
						  (unsigned long long)addr);
			for (j = 0; j < r->count; j++) {
				struct compact_frame *c = &(*pool)[used++];

				c->function = gf[j].function;
				c->file = gf[j].file;
				c->func_addr = gf[j].entry;
				c->line = gf[j].line;
				c->start_line = gf[j].start_line;
				c->kind = GOPROF_FRAME_KIND_GO;
				c->flags = gf[j].inlined ? GOPROF_FRAME_INLINED : 0;
			}
		} else {
			r->count = gp_binary_lookup_hint(bin, addr, fr, GP_MAX_FRAMES, &hint);
			for (j = 0; j < r->count; j++) {
				struct compact_frame *c = &(*pool)[used++];

				c->function = fr[j].function;
				c->file = fr[j].file;
				c->func_addr = fr[j].func_addr;
				c->line = fr[j].line;
				c->start_line = fr[j].start_line;
				c->kind = (uint16_t)fr[j].kind;
				c->flags = (uint16_t)fr[j].flags;
			}
		}
		prev_addr = addr;
		prev_idx = idx;
	}
	memset(fr, 0, sizeof(fr[0]));
	fr[0].sz = sizeof(fr[0]);
	fr[0].module = bin->elf.path;
	for (i = 0; i < n; i++) {
		/*
		 * Caller order reads the pool (megabytes) at random: fetch a few addresses
		 * ahead (about 5% of a 100k batch on terraform).
		 */
		if (i + DELIVERY_PREFETCH < n && res[i + DELIVERY_PREFETCH].count > 0)
			__builtin_prefetch(&(*pool)[res[i + DELIVERY_PREFETCH].first]);
		if (res[i].count < 0)
			return res[i].count;
		for (j = 0; j < res[i].count; j++) {
			const struct compact_frame *c = &(*pool)[res[i].first + (size_t)j];

			fr[0].kind = c->kind;
			fr[0].flags = c->flags;
			fr[0].line = c->line;
			fr[0].start_line = c->start_line;
			fr[0].frame_index = (uint32_t)j;
			fr[0].nframes = (uint32_t)res[i].count;
			fr[0].addr_index = base + i;
			fr[0].addr = fr[0].vaddr = addrs[i];
			fr[0].func_addr = c->func_addr;
			fr[0].function = c->function;
			fr[0].file = c->file;
			ret = cb(&fr[0], ctx);
			if (ret)
				return ret;
		}
	}
	return 0;
}

GOPROF_API int goprof_binary_symbolize(struct goprof_binary *bin, const uint64_t *addrs, size_t n,
				       goprof_frame_fn cb, void *ctx)
{
	uint64_t *keys, *tmp;
	struct addr_result *res;
	struct compact_frame *pool;
	size_t pool_cap, done, chunk;
	int ret = 0;

	if (!bin || (n && !addrs) || !cb)
		return gp_err(-EINVAL, "goprof_binary_symbolize: NULL argument");
	if (n <= SYM_SMALL_BATCH)
		return symbolize_one_by_one(bin, addrs, n, 0, cb, ctx);
	chunk = GP_MIN(n, (size_t)SYM_BATCH);
	/*
	 * Sized once: a unique address has at most GP_MAX_FRAMES frames, but Go addresses
	 * average 1.1-1.3 (inlining), so twice the addresses plus one full stack rarely needs
	 * to grow (growing copied the pool a dozen times per batch). Pages never touched cost
	 * nothing.
	 */
	pool_cap = 2 * chunk + GP_MAX_FRAMES;
	keys = malloc(chunk * (2 * sizeof(*keys) + sizeof(*res)));
	pool = malloc(pool_cap * sizeof(*pool));
	if (!keys || !pool) {
		/* Low on memory: the slow path needs none. */
		free(keys);
		free(pool);
		return symbolize_one_by_one(bin, addrs, n, 0, cb, ctx);
	}
	tmp = keys + chunk;
	res = (struct addr_result *)(tmp + chunk);
	for (done = 0; done < n && !ret; done += chunk) {
		chunk = GP_MIN(n - done, (size_t)SYM_BATCH);
		ret = symbolize_chunk(bin, addrs + done, chunk, done, cb, ctx, keys, tmp, res, &pool, &pool_cap);
	}
	free(pool);
	free(keys);
	return ret;
}

GOPROF_API int goprof_binary_symbolize_addr(struct goprof_binary *bin, uint64_t addr,
					    struct goprof_frame *frames, size_t cap, size_t frame_sz)
{
	struct goprof_frame tmp[GP_MAX_FRAMES];
	size_t i, copy;
	int k;

	if (!bin || (cap && !frames) || (cap && frame_sz < offsetof(struct goprof_frame, function)))
		return gp_err(-EINVAL, "goprof_binary_symbolize_addr: NULL frames or frame_sz too small");
	k = gp_binary_lookup(bin, addr, tmp, GP_MAX_FRAMES);
	if (k <= 0)
		return k;
	/* Copy with the caller's stride and size: an older caller gets the fields it knows. */
	copy = GP_MIN(frame_sz, sizeof(struct goprof_frame));
	for (i = 0; i < (size_t)k && i < cap; i++) {
		tmp[i].sz = (uint32_t)copy;
		memcpy((char *)frames + i * frame_sz, &tmp[i], copy);
	}
	return k;
}

GOPROF_API int goprof_binary_foreach_function(struct goprof_binary *bin, goprof_function_fn cb, void *ctx)
{
	struct goprof_function fn;
	uint64_t i;
	int ret;

	if (!bin || !cb)
		return gp_err(-EINVAL, "goprof_binary_foreach_function: NULL argument");
	if (bin->is_go) {
		for (i = 0; i < bin->tab.nfunc; i++) {
			struct gp_func f;
			int32_t fileno = -1;

			if (gp_pclntab_func(&bin->tab, i, &f))
				return gp_err(-GOPROF_ERRNO_CORRUPT, "%s: corrupt function record %llu",
					      bin->elf.path, (unsigned long long)i);
			memset(&fn, 0, sizeof(fn));
			fn.sz = sizeof(fn);
			fn.kind = GOPROF_FRAME_KIND_GO;
			fn.start_line = f.start_line;
			fn.entry = f.entry;
			fn.end = f.end;
			fn.name = gp_pclntab_funcname(&bin->tab, f.nameoff);
			if (!fn.name)
				return gp_err(-GOPROF_ERRNO_CORRUPT, "%s: function %llu has a bad name offset",
					      bin->elf.path, (unsigned long long)i);
			if (gp_pclntab_pcvalue(&bin->tab, &f, f.pcfile, f.entry, &fileno))
				fn.file = gp_pclntab_file(&bin->tab, &f, fileno);
			ret = cb(&fn, ctx);
			if (ret)
				return ret;
		}
		return 0;
	}
	{
		const struct gp_native_syms *ns = native_syms(bin);

		for (i = 0; i < ns->n; i++) {
			memset(&fn, 0, sizeof(fn));
			fn.sz = sizeof(fn);
			fn.kind = GOPROF_FRAME_KIND_NATIVE;
			fn.entry = ns->syms[i].addr;
			fn.end = ns->syms[i].addr + ns->syms[i].size;
			fn.name = ns->syms[i].name;
			ret = cb(&fn, ctx);
			if (ret)
				return ret;
		}
	}
	return 0;
}
