// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * CPU stack table: ring-buffer samples -> symbolized, aggregated profile.
 *
 * Symbolization is the expensive part, so each (pid, address) is resolved once and the
 * resulting profile location id is cached; a sample then costs one hash lookup per
 * frame. User frames get one pprof mapping per (process, object file) with its build ID.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cpu_table.h"
#include "goprof/profile.h"
#include "goprof/symbolizer.h"
#include "profile/idmap.h"
#include "profile/profile_internal.h"

#define MAX_LINES_PER_ADDR 64

/* (pid, address) -> location id; pid 0 holds kernel addresses. */
struct loc_key {
	uint32_t pid;
	uint32_t is_return; /* caller frames are looked up at address - 1 */
	uint64_t addr;
};

/* (pid, object file) -> mapping id */
struct map_key {
	uint32_t pid;
	uint32_t mapping;
	char *file;
};

struct gp_cpu_table {
	struct goprof_symbolizer *sym;
	struct goprof_profile *prof;
	unsigned freq_hz;
	int64_t start_wall_ns, start_mono_ns;

	struct loc_key *locs;       /* [id - 1] of loc_idx ids */
	uint32_t *loc_ids;          /* profile location id per loc entry */
	size_t nr_locs, locs_cap;
	struct gp_idmap loc_idx;

	struct map_key *maps;
	size_t nr_maps, maps_cap;

	uint32_t *stack;            /* scratch: location ids of one sample */
	struct gp_cpu_table_stats st;
};

static int64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct goprof_profile *new_cpu_profile(unsigned freq_hz)
{
	static const struct gp_value_type types[] = {
		{ "samples", "count" },
		{ "cpu", "nanoseconds" },
	};
	struct gp_profile_desc desc = {
		.sample_types = types,
		.nr_sample_types = 2,
		.period_type = { "cpu", "nanoseconds" },
		.period = 1000000000 / freq_hz,
		.default_sample_type = "cpu",
	};

	return gp_profile_new(&desc);
}

struct gp_cpu_table *gp_cpu_table_new(struct goprof_symbolizer *sym, unsigned freq_hz)
{
	struct gp_cpu_table *t = calloc(1, sizeof(*t));

	if (!t)
		return gp_err_null(-ENOMEM, "out of memory");
	t->sym = sym;
	t->freq_hz = freq_hz;
	t->stack = calloc(2 * GP_MAX_STACK_DEPTH * MAX_LINES_PER_ADDR, sizeof(*t->stack));
	t->prof = new_cpu_profile(freq_hz);
	if (!t->stack || !t->prof) {
		gp_cpu_table_free(t);
		return gp_err_null(-ENOMEM, "out of memory creating the CPU stack table");
	}
	gp_cpu_table_mark_start(t);
	return t;
}

void gp_cpu_table_free(struct gp_cpu_table *t)
{
	if (!t)
		return;
	goprof_profile_free(t->prof);
	gp_idmap_free(&t->loc_idx);
	for (size_t i = 0; i < t->nr_maps; i++)
		free(t->maps[i].file);
	free(t->maps);
	free(t->locs);
	free(t->loc_ids);
	free(t->stack);
	free(t);
}

void gp_cpu_table_mark_start(struct gp_cpu_table *t)
{
	t->start_wall_ns = clock_ns(CLOCK_REALTIME);
	t->start_mono_ns = clock_ns(CLOCK_MONOTONIC);
}

static bool loc_eq(const void *tables, uint32_t id, const void *key)
{
	const struct loc_key *a = &((const struct gp_cpu_table *)tables)->locs[id - 1], *b = key;

	return a->pid == b->pid && a->addr == b->addr && a->is_return == b->is_return;
}

static uint32_t loc_hash(const struct loc_key *k)
{
	return gp_hash_fold(gp_hash_mix(gp_hash_mix(k->pid, k->addr), k->is_return));
}

/* The build ID of an object file as pprof wants it: Go build ID, else GNU hex. */
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

static int mapping_for(struct gp_cpu_table *t, uint32_t pid, const char *file, uint32_t *id)
{
	struct gp_mapping_in m = { .filename = file };
	char build_id[160];
	int err;

	for (size_t i = 0; i < t->nr_maps; i++)
		if (t->maps[i].pid == pid && !strcmp(t->maps[i].file, file)) {
			*id = t->maps[i].mapping;
			return 0;
		}
	/*
	 * Addresses are fully symbolized here (has_functions), so pprof never needs the
	 * address range; the mapping carries the file and its build ID.
	 */
	build_id_of(file, build_id, sizeof(build_id));
	m.build_id = build_id[0] ? build_id : NULL;
	err = gp_profile_add_mapping(id, t->prof, &m);
	if (err)
		return err;
	if (t->nr_maps == t->maps_cap) {
		size_t cap = t->maps_cap ? 2 * t->maps_cap : 16;
		struct map_key *n = realloc(t->maps, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->maps = n;
		t->maps_cap = cap;
	}
	t->maps[t->nr_maps].pid = pid;
	t->maps[t->nr_maps].mapping = *id;
	t->maps[t->nr_maps].file = strdup(file);
	if (!t->maps[t->nr_maps].file)
		return -ENOMEM;
	t->nr_maps++;
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

/* Resolves one address into a profile location id, symbolizing it on a cache miss. */
static int location_of(struct gp_cpu_table *t, uint32_t pid, uint64_t addr, bool is_return,
		       bool kernel, uint32_t *id)
{
	struct loc_key key = { .pid = kernel ? 0 : pid, .addr = addr, .is_return = is_return };
	uint32_t h = loc_hash(&key), idx, mapping = 0;
	struct frame_set fs = { .kind = kernel ? GOPROF_FRAME_KIND_KERNEL : GOPROF_FRAME_KIND_NATIVE };
	uint64_t lookup = is_return ? addr - 1 : addr;
	int err;

	idx = gp_idmap_find(&t->loc_idx, h, loc_eq, t, &key);
	if (idx) {
		t->st.location_cache_hits++;
		*id = t->loc_ids[idx - 1];
		return 0;
	}
	t->st.location_cache_misses++;
	if (kernel)
		goprof_symbolizer_symbolize_kernel(t->sym, &lookup, 1, collect_frame, &fs);
	else
		goprof_symbolizer_symbolize_pid(t->sym, (int)pid, &lookup, 1, collect_frame, &fs);
	if (!fs.n)
		t->st.frames_unsymbolized++;
	if (!kernel && fs.module) {
		err = mapping_for(t, pid, fs.module, &mapping);
		if (err)
			return err;
	}
	if (!kernel && !fs.module && !fs.n && is_return) {
		/*
		 * A caller address in no executable mapping of the process: not code. The
		 * frame-pointer walk read a word past the outermost frame (g0's mstart, C code
		 * without frame pointers); id 0 lets the caller drop it from the stack's end.
		 */
		*id = 0;
	} else {
		/* Location addresses are the sampled ones (return addresses for callers), as Go's. */
		err = gp_profile_add_location(id, t->prof, mapping, addr, fs.kind, fs.lines, fs.n);
		if (err)
			return err;
	}
	if (t->nr_locs == t->locs_cap) {
		size_t cap = t->locs_cap ? 2 * t->locs_cap : 1024;
		struct loc_key *k = realloc(t->locs, cap * sizeof(*k));
		uint32_t *ids = k ? realloc(t->loc_ids, cap * sizeof(*ids)) : NULL;

		if (k)
			t->locs = k;
		if (!ids)
			return -ENOMEM;
		t->loc_ids = ids;
		t->locs_cap = cap;
	}
	t->locs[t->nr_locs] = key;
	t->loc_ids[t->nr_locs] = *id;
	t->nr_locs++;
	return gp_idmap_insert(&t->loc_idx, h, (uint32_t)t->nr_locs);
}

int gp_cpu_table_add(struct gp_cpu_table *t, const struct gp_sample_event *ev)
{
	struct gp_label_in labels[GP_MAX_LABELS];
	int64_t values[2] = { 1, 1000000000 / t->freq_hz };
	uint32_t n = 0, nr_user = GP_MIN(ev->nr_user, GP_MAX_STACK_DEPTH),
		 nr_kernel = GP_MIN(ev->nr_kernel, GP_MAX_STACK_DEPTH);
	struct gp_sample_in s = { .values = values, .comm = ev->comm };
	char comm[GP_TASK_COMM_LEN + 1];
	int err;

	/* Leaf first: kernel frames (when the sample hit the kernel), then user frames. */
	for (uint32_t i = 0; i < nr_kernel; i++) {
		err = location_of(t, ev->pid, ev->stack[nr_user + i], i > 0, true, &t->stack[n]);
		if (err)
			return err;
		n++;
	}
	for (uint32_t i = 0; i < nr_user; i++) {
		err = location_of(t, ev->pid, ev->stack[i], i > 0, false, &t->stack[n]);
		if (err)
			return err;
		if (!t->stack[n]) {
			/* Not code: drop it at the end of the stack, keep its address inside. */
			if (i + 1 == nr_user)
				break;
			err = gp_profile_add_location(&t->stack[n], t->prof, 0, ev->stack[i],
						      GOPROF_FRAME_KIND_NATIVE, NULL, 0);
			if (err)
				return err;
		}
		n++;
	}
	for (uint32_t i = 0; i < ev->nr_labels && i < GP_MAX_LABELS; i++)
		labels[i] = (struct gp_label_in){ .key = ev->labels[i].key, .str = ev->labels[i].value };
	memcpy(comm, ev->comm, GP_TASK_COMM_LEN);
	comm[GP_TASK_COMM_LEN] = '\0';
	s.comm = comm;
	s.locations = t->stack;
	s.nr_locations = n;
	s.labels = labels;
	s.nr_labels = GP_MIN(ev->nr_labels, GP_MAX_LABELS);
	err = gp_profile_add_sample(t->prof, &s);
	if (!err)
		t->st.samples++;
	return err;
}

struct goprof_profile *gp_cpu_table_snapshot(struct gp_cpu_table *t, bool reset)
{
	struct goprof_profile *copy;
	int64_t now = clock_ns(CLOCK_MONOTONIC);

	gp_profile_set_time(t->prof, t->start_wall_ns, now - t->start_mono_ns);
	copy = gp_profile_clone(t->prof);
	if (copy && reset) {
		gp_profile_reset(t->prof);
		gp_cpu_table_mark_start(t);
	}
	return copy;
}

void gp_cpu_table_stats(const struct gp_cpu_table *t, struct gp_cpu_table_stats *st)
{
	*st = t->st;
}
