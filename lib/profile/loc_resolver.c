// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Symbolization is the expensive part of building a profile, so each (pid, address) is
 * resolved once and its profile location id cached; a sample then costs one hash lookup
 * per frame.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "goprof/profile.h"
#include "goprof/symbolizer.h"
#include "profile/htlhash.h"
#include "profile/loc_resolver.h"
#include "profile/profile_internal.h"
#include "core/proc.h"

#define MAX_LINES_PER_ADDR 64

/* (pid, object file) -> mapping id */
struct gp_resolver_mapping {
	uint32_t pid;
	uint32_t mapping;
	char *file;
};

void gp_loc_resolver_init(struct gp_loc_resolver *r, struct goprof_symbolizer *sym,
			  struct goprof_profile *prof)
{
	memset(r, 0, sizeof(*r));
	r->sym = sym;
	r->prof = prof;
}

void gp_loc_resolver_fini(struct gp_loc_resolver *r)
{
	gp_idmap_free(&r->idx);
	for (size_t i = 0; i < r->nr_maps; i++)
		free(r->maps[i].file);
	free(r->maps);
	free(r->keys);
	free(r->loc_ids);
	memset(r, 0, sizeof(*r));
}

void gp_loc_resolver_restart(struct gp_loc_resolver *r, struct goprof_profile *prof)
{
	struct goprof_symbolizer *sym = r->sym;
	gp_fallback_binary_fn fallback = r->fallback;
	void *fallback_ctx = r->fallback_ctx;

	gp_loc_resolver_fini(r);
	gp_loc_resolver_init(r, sym, prof);
	r->fallback = fallback;
	r->fallback_ctx = fallback_ctx;
}

static bool key_eq(const void *tables, uint32_t id, const void *key)
{
	const struct gp_loc_key *a = &((const struct gp_loc_resolver *)tables)->keys[id - 1], *b = key;

	return a->pid == b->pid && a->addr == b->addr && a->is_return == b->is_return;
}

static uint32_t key_hash(const struct gp_loc_key *k)
{
	return gp_hash_fold(gp_hash_mix(gp_hash_mix(k->pid, k->addr), k->is_return));
}

/* The build ID of an object file as pprof wants it: GNU hex, else the Go build ID. */
static void build_id_of(const char *path, char *buf, size_t len)
{
	struct goprof_binary *bin = goprof_binary_open(path, NULL);
	uint8_t raw[64];
	int n;

	buf[0] = '\0';
	if (!bin)
		return;
	n = goprof_binary_gnu_build_id(bin, raw, sizeof(raw));
	if (n > 0) {
		for (int i = 0; i < n && i < (int)sizeof(raw) && (size_t)(2 * i + 2) < len; i++)
			snprintf(buf + 2 * i, 3, "%02x", raw[i]);
	} else if (goprof_binary_go_build_id(bin)) {
		gp_strlcpy(buf, goprof_binary_go_build_id(bin), len);
	}
	goprof_binary_free(bin);
}

/* The file's htlhash (OTLP), read through the process's root when it is alive (a
 * container's files), else by the path as we see it. "" for [vdso] and the like. */
static void htlhash_of(uint32_t pid, const char *path, char hex[GP_HTLHASH_HEX_LEN + 1])
{
	char rooted[PATH_MAX];

	hex[0] = '\0';
	if (path[0] != '/')
		return;
	if (snprintf(rooted, sizeof(rooted), "/proc/%u/root%s", pid, path) < (int)sizeof(rooted) &&
	    !gp_htlhash_path(rooted, hex))
		return;
	if (gp_htlhash_path(path, hex))
		hex[0] = '\0';
}

/*
 * The run-time range of the mapping holding addr. It keeps locations of two processes
 * apart when a PIE binary is loaded at different addresses: a location is keyed by
 * (mapping, address). Unknown once the process is gone: the range stays empty.
 */
static void mapping_range(uint32_t pid, uint64_t addr, struct gp_mapping_in *m)
{
	gp_proc_mapping_range((int)pid, addr, &m->start, &m->limit, &m->offset);
}

static int mapping_for(struct gp_loc_resolver *r, uint32_t pid, const char *file, uint64_t addr,
		       uint32_t *id)
{
	struct gp_mapping_in m = { .filename = file };
	char build_id[160], htlhash[GP_HTLHASH_HEX_LEN + 1];
	int err;

	for (size_t i = 0; i < r->nr_maps; i++)
		if (r->maps[i].pid == pid && !strcmp(r->maps[i].file, file)) {
			*id = r->maps[i].mapping;
			return 0;
		}
	mapping_range(pid, addr, &m);
	build_id_of(file, build_id, sizeof(build_id));
	m.build_id = build_id[0] ? build_id : NULL;
	htlhash_of(pid, file, htlhash);
	m.htlhash = htlhash[0] ? htlhash : NULL;
	err = gp_profile_add_mapping(id, r->prof, &m);
	if (err)
		return err;
	if (r->nr_maps == r->maps_cap) {
		size_t cap = r->maps_cap ? 2 * r->maps_cap : 16;
		struct gp_resolver_mapping *n = realloc(r->maps, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		r->maps = n;
		r->maps_cap = cap;
	}
	r->maps[r->nr_maps] = (struct gp_resolver_mapping){ .pid = pid, .mapping = *id,
							    .file = strdup(file) };
	if (!r->maps[r->nr_maps].file)
		return -ENOMEM;
	r->nr_maps++;
	return 0;
}

/* Frames of one address, collected from the symbolizer's callback. */
struct frame_set {
	struct gp_line_in lines[MAX_LINES_PER_ADDR];
	uint32_t n;
	uint32_t kind;
	const char *module;
};

static int collect_frame(const struct goprof_frame *f, void *ctx)
{
	struct frame_set *fs = ctx;

	if (fs->n == MAX_LINES_PER_ADDR)
		return 0;
	fs->kind = f->kind;
	if (!fs->module)
		fs->module = f->module;
	fs->lines[fs->n++] = (struct gp_line_in){
		.function = f->function,
		.file = f->file,
		.line = f->line,
		.start_line = f->start_line,
	};
	return 0;
}

static int cache_put(struct gp_loc_resolver *r, const struct gp_loc_key *key, uint32_t h,
		     uint32_t loc_id)
{
	if (r->nr == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 1024;
		struct gp_loc_key *k = realloc(r->keys, cap * sizeof(*k));
		uint32_t *ids;

		if (!k)
			return -ENOMEM;
		r->keys = k;
		ids = realloc(r->loc_ids, cap * sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		r->loc_ids = ids;
		r->cap = cap;
	}
	r->keys[r->nr] = *key;
	r->loc_ids[r->nr] = loc_id;
	r->nr++;
	return gp_idmap_insert(&r->idx, h, (uint32_t)r->nr);
}

int gp_loc_resolve(struct gp_loc_resolver *r, uint32_t pid, uint64_t addr, bool is_return,
		   bool kernel, uint32_t *id)
{
	struct gp_loc_key key = { .pid = kernel ? 0 : pid, .addr = addr, .is_return = is_return };
	uint32_t h = key_hash(&key), idx, mapping = 0;
	struct frame_set fs = { .kind = kernel ? GOPROF_FRAME_KIND_KERNEL : GOPROF_FRAME_KIND_NATIVE };
	uint64_t lookup = is_return ? addr - 1 : addr;
	int err;

	idx = gp_idmap_find(&r->idx, h, key_eq, r, &key);
	if (idx) {
		r->hits++;
		*id = r->loc_ids[idx - 1];
		return 0;
	}
	r->misses++;
	if (kernel) {
		goprof_symbolizer_symbolize_kernel(r->sym, &lookup, 1, collect_frame, &fs);
	} else {
		goprof_symbolizer_symbolize_pid(r->sym, (int)pid, &lookup, 1, collect_frame, &fs);
		/* Gone (or a zombie) before its mappings were read: its executable may do. */
		if (!fs.n && !fs.module && r->fallback) {
			struct goprof_binary *bin = r->fallback(r->fallback_ctx, pid);

			if (bin)
				goprof_binary_symbolize(bin, &lookup, 1, collect_frame, &fs);
		}
	}
	if (!fs.n)
		r->unsymbolized++;
	if (!kernel && fs.module) {
		err = mapping_for(r, pid, fs.module, addr, &mapping);
		if (err)
			return err;
	}
	if (!kernel && !fs.module && !fs.n && is_return) {
		*id = 0; /* not code, see gp_loc_resolve() */
	} else {
		/* Location addresses are the sampled ones (return addresses for callers), as Go's. */
		err = gp_profile_add_location(id, r->prof, mapping, addr, fs.kind, fs.lines, fs.n);
		if (err)
			return err;
	}
	return cache_put(r, &key, h, *id);
}

int gp_loc_resolver_forget_pid(struct gp_loc_resolver *r, uint32_t pid)
{
	size_t kept = 0;
	int err = 0;

	if (!pid)
		return 0;
	for (size_t i = 0; i < r->nr; i++) {
		if (r->keys[i].pid == pid)
			continue;
		r->keys[kept] = r->keys[i];
		r->loc_ids[kept++] = r->loc_ids[i];
	}
	if (kept != r->nr) {
		r->nr = kept;
		gp_idmap_clear(&r->idx);
		for (size_t i = 0; i < kept && !err; i++)
			err = gp_idmap_insert(&r->idx, key_hash(&r->keys[i]), (uint32_t)i + 1);
	}
	kept = 0;
	for (size_t i = 0; i < r->nr_maps; i++) {
		if (r->maps[i].pid == pid) {
			free(r->maps[i].file);
			continue;
		}
		r->maps[kept++] = r->maps[i];
	}
	r->nr_maps = kept;
	return err;
}

int gp_loc_resolve_user_stack(struct gp_loc_resolver *r, uint32_t pid, const uint64_t *stack,
			      uint32_t nr, bool all_returns, uint32_t *ids, uint32_t *n)
{
	uint32_t out = 0;
	int err;

	for (uint32_t i = 0; i < nr; i++) {
		err = gp_loc_resolve(r, pid, stack[i], all_returns || i > 0, false, &ids[out]);
		if (err)
			return err;
		if (!ids[out]) {
			/* Not code: drop it at the end of the stack, keep its address inside. */
			if (i + 1 == nr)
				break;
			err = gp_profile_add_location(&ids[out], r->prof, 0, stack[i],
						      GOPROF_FRAME_KIND_NATIVE, NULL, 0);
			if (err)
				return err;
		}
		out++;
	}
	*n = out;
	return 0;
}

uint32_t gp_loc_physical_function(const struct goprof_profile *p, uint32_t loc_id)
{
	const struct gp_location *l = gp_loc(p, loc_id);

	return l->nr_lines ? p->lines[l->line_off + l->nr_lines - 1].function : 0;
}

bool gp_loc_is_runtime(const struct goprof_profile *p, uint32_t loc_id)
{
	uint32_t fn = gp_loc_physical_function(p, loc_id);

	return fn && !strncmp(gp_str(p, gp_func(p, fn)->name), "runtime.", 8);
}
