// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Thread off-CPU profile: loader, flavour detection, kernel table -> profile. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/bpf_load.h"
#include "core/budget_window.h"
#include "core/bpf_maps.h"
#include "goprof/error.h"
#include "goprof/profile.h"
#include "goprof/session.h"
#include "caps/offcpu/offcpu.h"
#include "offcpu.skel.h"
#include "profile/idmap.h"
#include "profile/profile_internal.h"

/* A row of the kernel's tables and what was taken in of its entry in each table. */
struct row {
	struct gp_offcpu_key key;
	/* An entry only grows until it is read from the table not in use, and deleted: then
	 * its seen goes back to 0. The table in use is read without deleting (snapshots,
	 * exits): seen is the value then. */
	struct gp_offcpu_value seen[2];
	/* The row's stacks resolved into locations of the profile of generation gen: a row
	 * that grows again reuses them (its stacks were read with two bpf() calls and
	 * symbolized at every drain). NULL until a drain read both stacks whole. */
	uint32_t *locs;
	uint32_t nr_locs, nr_user, gen;
};

/*
 * One stack of the kernel's stack table resolved into locations of the profile of
 * generation gen (kernel stacks without the tracing frame on top, user stacks cut after
 * their Go root). Rows share stacks (one wait under many callers, one caller in many
 * waits): a new row whose stacks were seen needs no bpf() lookup and no symbolizer. User
 * stacks are kept per process (their locations are), kernel stacks under pid 0.
 */
struct stack_locs {
	uint64_t hash;
	uint32_t pid, gen;
	uint32_t *locs;
	uint32_t n;
};

struct gp_offcpu {
	const struct gp_host *host;
	uint64_t drained_ns;        /* CLOCK_MONOTONIC of the last periodic read */
	struct offcpu_bpf *skel;
	struct bpf_program *prog;   /* the flavour that loaded */
	const char *flavour;
	struct bpf_link *link;

	struct goprof_profile *prof;
	struct gp_loc_resolver locs;
	gp_offcpu_name_fn name;
	void *cb_ctx;
	int64_t start_wall_ns, start_mono_ns;

	struct row *rows;
	uint32_t nr_rows, rows_cap;
	uint32_t gen; /* of o->prof: a reset profile has other location ids */
	struct gp_idmap row_idx;
	struct stack_locs *stacks;
	uint32_t nr_stacks, stacks_cap;
	struct gp_idmap stack_idx;

	struct gp_offcpu_stack stack; /* scratch: one stack table entry */
	uint32_t *loc_ids;          /* scratch: locations of one sample */
	/* scratch: rows of one bpf_map_lookup_batch() (DRAIN_BATCH of each) */
	struct gp_offcpu_key batch_keys[256];
	struct gp_offcpu_value batch_values[256];
	uint64_t lost_aggregation;
	uint64_t stacks_missing;    /* rows whose stack was gone when read (see forget_pid) */

	/* Overhead budget window */
	struct gp_budget_window window;
	uint64_t window_out, window_sampled; /* counters at the window's start */
	uint64_t cost_ns;
};

static void mark_start(struct gp_offcpu *o)
{
	o->start_wall_ns = gp_clock_ns(CLOCK_REALTIME);
	o->start_mono_ns = gp_clock_ns(CLOCK_MONOTONIC);
}

/* One attach flavour: the program and what it needs from the kernel. */
struct flavour {
	const char *name;
	size_t prog_offset; /* offsetof(struct offcpu_bpf, progs.X) */
};

static const struct flavour flavours[] = {
	{ "tp_btf", offsetof(struct offcpu_bpf, progs.offcpu_tp_btf) },
	{ "raw_tp", offsetof(struct offcpu_bpf, progs.offcpu_raw_tp) },
	{ "tracepoint", offsetof(struct offcpu_bpf, progs.offcpu_tracepoint) },
};

static struct bpf_program *flavour_prog(struct offcpu_bpf *skel, const struct flavour *f)
{
	return *(struct bpf_program **)((char *)skel + f->prog_offset);
}

/*
 * Opens, configures and loads the object with only flavour f's program, and checks that
 * it attaches. Returns 0 (o->skel loaded) or a negative errno with *why set.
 */
static int try_flavour(struct gp_offcpu *o, const struct flavour *f,
		       const struct gp_shared_maps *shared, const struct gp_offcpu_config *cfg, char *why,
		       size_t why_len)
{
	/* The ring buffer is declared by bpf/shared.bpf.h; the off-CPU program writes no
	 * records. */
	const struct gp_shared_maps mine = { .targets = shared->targets, .lost = shared->lost };
	struct bpf_link *link;
	int err;

	o->skel = offcpu_bpf__open();
	if (!o->skel) {
		err = -errno;
		snprintf(why, why_len, "open: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < ARRAY_SIZE(flavours); i++)
		bpf_program__set_autoload(flavour_prog(o->skel, &flavours[i]), &flavours[i] == f);
	o->skel->rodata->min_ns = cfg->min_ns;
	o->skel->rodata->max_ns = cfg->max_ns;
	o->skel->rodata->user_stack_bytes = cfg->user_depth * 8;
	o->skel->rodata->kernel_stack_bytes = cfg->kernel_depth * 8;
	o->skel->data->sample_every = cfg->sample_every > 1 ? cfg->sample_every : 1;
	err = gp_bpf_share_maps(o->skel->obj, &mine);
	if (!err)
		err = bpf_map__set_autocreate(o->skel->maps.samples, false);
	if (!err)
		err = offcpu_bpf__load(o->skel);
	if (err) {
		snprintf(why, why_len, "load: %s", strerror(-err));
		goto fail;
	}
	/* Attach once now: a kernel that loads but cannot attach is found at creation. */
	link = bpf_program__attach(flavour_prog(o->skel, f));
	if (!link) {
		err = -errno;
		snprintf(why, why_len, "attach: %s", strerror(-err));
		goto fail;
	}
	bpf_link__destroy(link);
	o->prog = flavour_prog(o->skel, f);
	o->flavour = f->name;
	return 0;
fail:
	offcpu_bpf__destroy(o->skel);
	o->skel = NULL;
	return err;
}

struct gp_offcpu *gp_offcpu_new(const struct gp_shared_maps *shared,
				struct goprof_symbolizer *sym, const struct gp_offcpu_config *cfg)
{
	struct gp_offcpu *o = calloc(1, sizeof(*o));
	char why[ARRAY_SIZE(flavours)][96];
	int err = -ENOENT;

	if (!o)
		return gp_err_null(-ENOMEM, "out of memory");
	if (cfg->only_flavour && strcmp(cfg->only_flavour, "tp_btf") &&
	    strcmp(cfg->only_flavour, "raw_tp") && strcmp(cfg->only_flavour, "tracepoint")) {
		free(o);
		return gp_err_null(-EINVAL, "GOPROF_OFFCPU_ATTACH=%s: not one of tp_btf, raw_tp, "
				   "tracepoint", cfg->only_flavour);
	}
	o->loc_ids = calloc(2 * (size_t)GP_MAX_STACK_DEPTH * 8, sizeof(*o->loc_ids));
	o->prof = gp_contention_profile_new();
	if (!o->loc_ids || !o->prof) {
		gp_offcpu_free(o);
		return gp_err_null(-ENOMEM, "out of memory creating the off-CPU profile");
	}
	gp_loc_resolver_init(&o->locs, sym, o->prof);
	mark_start(o);
	for (size_t i = 0; i < ARRAY_SIZE(flavours); i++) {
		snprintf(why[i], sizeof(why[i]), "not tried");
		if (cfg->only_flavour && strcmp(cfg->only_flavour, flavours[i].name))
			continue;
		err = try_flavour(o, &flavours[i], shared, cfg, why[i], sizeof(why[i]));
		if (!err)
			return o;
		if (err == -EPERM) /* no flavour will do better */
			break;
	}
	gp_offcpu_free(o);
	if (err == -EPERM)
		return gp_err_null(-EPERM, "off-CPU profile: loading the sched_switch program: "
				   "permission denied: needs CAP_BPF and CAP_PERFMON, or root");
	return gp_err_null(-GOPROF_ERRNO_KERNEL, "off-CPU profile: no way to attach to the "
			   "sched_switch tracepoint on this kernel (tp_btf: %s; raw_tp: %s; "
			   "tracepoint: %s); GOPROF_DEBUG=1 shows libbpf's log", why[0], why[1], why[2]);
}

void gp_offcpu_free(struct gp_offcpu *o)
{
	if (!o)
		return;
	bpf_link__destroy(o->link);
	offcpu_bpf__destroy(o->skel);
	gp_loc_resolver_fini(&o->locs);
	goprof_profile_free(o->prof);
	gp_idmap_free(&o->row_idx);
	for (uint32_t i = 0; i < o->nr_rows; i++)
		free(o->rows[i].locs);
	free(o->rows);
	for (uint32_t i = 0; i < o->nr_stacks; i++)
		free(o->stacks[i].locs);
	free(o->stacks);
	gp_idmap_free(&o->stack_idx);
	free(o->loc_ids);
	free(o);
}

const char *gp_offcpu_flavour(const struct gp_offcpu *o)
{
	return o->flavour;
}

int gp_offcpu_attach(struct gp_offcpu *o)
{
	if (o->link)
		return 0;
	/* Start records of an earlier attach describe intervals we did not see end. */
	o->skel->data->generation++;
	o->link = bpf_program__attach(o->prog);
	if (!o->link)
		return gp_err(-errno, "off-CPU profile: attaching to sched_switch (%s) failed: %s",
			      o->flavour, strerror(errno));
	return 0;
}

void gp_offcpu_detach(struct gp_offcpu *o)
{
	bpf_link__destroy(o->link);
	o->link = NULL;
}

bool gp_offcpu_attached(const struct gp_offcpu *o)
{
	return o->link != NULL;
}

void gp_offcpu_set_callbacks(struct gp_offcpu *o, gp_offcpu_name_fn name,
			     gp_fallback_binary_fn fallback, void *ctx)
{
	o->name = name;
	o->cb_ctx = ctx;
	o->locs.fallback = fallback;
	o->locs.fallback_ctx = ctx;
}

void gp_offcpu_set_sample_every(struct gp_offcpu *o, uint32_t n)
{
	o->skel->data->sample_every = n ? n : 1;
}

uint32_t gp_offcpu_sample_every(const struct gp_offcpu *o)
{
	return o->skel->data->sample_every;
}

static uint32_t row_hash(const struct gp_offcpu_key *k)
{
	return gp_hash_fold(gp_hash_bytes(k, sizeof(*k), 0x0ffc));
}

static bool row_eq(const void *tables, uint32_t id, const void *key)
{
	const struct gp_offcpu *o = tables;

	return memcmp(&o->rows[id - 1].key, key, sizeof(struct gp_offcpu_key)) == 0;
}

static struct row *find_row(struct gp_offcpu *o, const struct gp_offcpu_key *k)
{
	uint32_t hash = row_hash(k), id = gp_idmap_find(&o->row_idx, hash, row_eq, o, k);

	if (id)
		return &o->rows[id - 1];
	if (o->nr_rows == o->rows_cap) {
		uint32_t cap = o->rows_cap ? 2 * o->rows_cap : 64;
		struct row *r = realloc(o->rows, cap * sizeof(*r));

		if (!r)
			return NULL;
		o->rows = r;
		o->rows_cap = cap;
	}
	if (gp_idmap_insert(&o->row_idx, hash, o->nr_rows + 1))
		return NULL;
	o->rows[o->nr_rows] = (struct row){ .key = *k };
	return &o->rows[o->nr_rows++];
}

/* Reads the stack stored under hash into o->stack; returns its depth (0: none). */
static uint32_t read_stack(struct gp_offcpu *o, uint64_t hash)
{
	if (!hash)
		return 0;
	if (bpf_map__lookup_elem(o->skel->maps.offcpu_stacks, &hash, sizeof(hash), &o->stack,
				 sizeof(o->stack), 0)) {
		o->stacks_missing++;
		return 0;
	}
	return GP_MIN(o->stack.nr, GP_MAX_STACK_DEPTH);
}

/* Function of a location's outermost line ("" if unsymbolized). */
static const char *loc_function(const struct goprof_profile *p, uint32_t id, uint32_t line)
{
	const struct gp_location *loc = id ? gp_loc(p, id) : NULL;

	if (!loc || line >= loc->nr_lines)
		return "";
	return gp_str(p, gp_func(p, p->lines[loc->line_off + line].function)->name);
}

/* The tracing machinery on top of every kernel stack taken in the tracepoint (our
 * program, bpf_trace_run*, perf_trace_*): not where the thread blocked. */
static bool is_tracing_frame(const char *fn)
{
	return !strncmp(fn, "bpf_", 4) || !strncmp(fn, "__bpf_trace", 11) ||
	       !strncmp(fn, "perf_trace", 10) || !strncmp(fn, "trace_call_bpf", 14) ||
	       !strncmp(fn, "__traceiter", 11);
}

/*
 * Length of a user stack cut after its Go root (runtime.goexit for goroutines,
 * runtime.mstart for a thread's g0): a frame-pointer walk can run on past them into
 * stale stack memory, whose "frames" may resolve to any function.
 */
static uint32_t go_stack_roots(const struct goprof_profile *p, const uint32_t *ids, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct gp_location *loc = gp_loc(p, ids[i]);
		const char *fn = loc->nr_lines ? loc_function(p, ids[i], loc->nr_lines - 1) : "";

		if (!strcmp(fn, "runtime.goexit") || !strcmp(fn, "runtime.mstart"))
			return i + 1;
	}
	return n;
}

/*
 * Threads of the Go scheduler waiting for work (an idle M in stopm, sysmon's sleeps, the
 * scheduler's netpoll wait): off CPU, but not the program waiting. Returns the runtime
 * function that makes the stack one of those, or NULL. Their samples get labels and a
 * root of their own so that they can be told apart or filtered.
 */
static const char *go_idle_function(const struct goprof_profile *p, const uint32_t *ids, uint32_t n)
{
	static const char *const idle[] = {
		"runtime.stopm", "runtime.sysmon", "runtime.templateThread",
		"runtime.findRunnable", "runtime.findrunnable", "runtime.stoplockedm",
	};

	for (uint32_t i = 0; i < n; i++) {
		for (uint32_t l = 0; l < gp_loc(p, ids[i])->nr_lines; l++) {
			const char *fn = loc_function(p, ids[i], l);

			for (size_t k = 0; k < ARRAY_SIZE(idle); k++)
				if (strcmp(fn, idle[k]) == 0)
					return idle[k];
		}
	}
	return NULL;
}

struct stack_key {
	uint64_t hash;
	uint32_t pid;
};

static uint32_t stack_hash(const struct stack_key *k)
{
	return gp_hash_fold(gp_hash_mix(k->hash, k->pid));
}

static bool stack_eq(const void *tables, uint32_t id, const void *key)
{
	const struct stack_locs *s = &((const struct gp_offcpu *)tables)->stacks[id - 1];
	const struct stack_key *k = key;

	return s->hash == k->hash && s->pid == k->pid;
}

/* The cached locations of a stack (see struct stack_locs), or NULL. */
static const struct stack_locs *cached_stack(const struct gp_offcpu *o, uint32_t pid, uint64_t hash)
{
	struct stack_key k = { .hash = hash, .pid = pid };
	uint32_t id = gp_idmap_find(&o->stack_idx, stack_hash(&k), stack_eq, o, &k);

	return id && o->stacks[id - 1].gen == o->gen ? &o->stacks[id - 1] : NULL;
}

/* Keeps the n locations of a stack read whole; out of memory only costs a later lookup. */
static void cache_stack(struct gp_offcpu *o, uint32_t pid, uint64_t hash, const uint32_t *locs,
			uint32_t n)
{
	struct stack_key k = { .hash = hash, .pid = pid };
	uint32_t h = stack_hash(&k), id = gp_idmap_find(&o->stack_idx, h, stack_eq, o, &k);
	uint32_t *copy = malloc((n ? n : 1) * sizeof(*copy));
	struct stack_locs *s;

	if (!copy)
		return;
	memcpy(copy, locs, n * sizeof(*copy));
	if (!id) {
		if (o->nr_stacks == o->stacks_cap) {
			uint32_t cap = o->stacks_cap ? 2 * o->stacks_cap : 64;
			struct stack_locs *grown = realloc(o->stacks, cap * sizeof(*grown));

			if (!grown) {
				free(copy);
				return;
			}
			o->stacks = grown;
			o->stacks_cap = cap;
		}
		if (gp_idmap_insert(&o->stack_idx, h, o->nr_stacks + 1)) {
			free(copy);
			return;
		}
		id = ++o->nr_stacks;
		o->stacks[id - 1] = (struct stack_locs){ .hash = hash, .pid = pid };
	}
	s = &o->stacks[id - 1];
	free(s->locs);
	s->locs = copy;
	s->n = n;
	s->gen = o->gen;
}

/* Drops the cached stacks: every one (pid 0 and all), or the user stacks of one process. */
static void forget_stacks(struct gp_offcpu *o, bool all, uint32_t pid)
{
	uint32_t kept = 0;

	for (uint32_t i = 0; i < o->nr_stacks; i++) {
		if (all || (pid && o->stacks[i].pid == pid)) {
			free(o->stacks[i].locs);
			continue;
		}
		o->stacks[kept++] = o->stacks[i];
	}
	if (kept == o->nr_stacks)
		return;
	o->nr_stacks = kept;
	gp_idmap_clear(&o->stack_idx);
	for (uint32_t i = 0; i < kept; i++) {
		struct stack_key k = { .hash = o->stacks[i].hash, .pid = o->stacks[i].pid };

		if (gp_idmap_insert(&o->stack_idx, stack_hash(&k), i + 1)) {
			o->nr_stacks = i; /* out of memory: forget the rest (read again if needed) */
			for (uint32_t j = i; j < kept; j++)
				free(o->stacks[j].locs);
			break;
		}
	}
}

/* The kernel stack's locations at o->loc_ids; their number (0 if unread, *whole false). */
static int kernel_locations(struct gp_offcpu *o, const struct gp_offcpu_key *k, uint32_t *nr, bool *whole)
{
	const struct stack_locs *c = k->kernel_stack ? cached_stack(o, 0, k->kernel_stack) : NULL;
	uint64_t missing = o->stacks_missing;
	uint32_t n = 0, depth;
	int err;

	if (c) {
		memcpy(o->loc_ids, c->locs, c->n * sizeof(*c->locs));
		*nr = c->n;
		return 0;
	}
	/* Leaf first: the switch happened in the kernel. */
	depth = read_stack(o, k->kernel_stack);
	for (uint32_t i = 0; i < depth; i++) {
		err = gp_loc_resolve(&o->locs, k->pid, o->stack.ips[i], i > 0, true, &o->loc_ids[n]);
		if (err)
			return err;
		if (n == 0 && is_tracing_frame(loc_function(o->prof, o->loc_ids[0], 0)))
			continue;
		n++;
	}
	*nr = n;
	if (o->stacks_missing != missing)
		*whole = false;
	else if (k->kernel_stack)
		cache_stack(o, 0, k->kernel_stack, o->loc_ids, n);
	return 0;
}

/* The user stack's locations at o->loc_ids + at, as kernel_locations(). */
static int user_locations(struct gp_offcpu *o, const struct gp_offcpu_key *k, uint32_t at, uint32_t *nr,
			  bool *whole)
{
	const struct stack_locs *c = k->user_stack ? cached_stack(o, k->pid, k->user_stack) : NULL;
	uint64_t missing = o->stacks_missing;
	uint32_t nr_user = 0, depth;
	int err;

	if (c) {
		memcpy(o->loc_ids + at, c->locs, c->n * sizeof(*c->locs));
		*nr = c->n;
		return 0;
	}
	depth = read_stack(o, k->user_stack);
	err = gp_loc_resolve_user_stack(&o->locs, k->pid, (const uint64_t *)o->stack.ips, depth,
					false, o->loc_ids + at, &nr_user);
	if (err)
		return err;
	nr_user = go_stack_roots(o->prof, o->loc_ids + at, nr_user);
	*nr = nr_user;
	if (o->stacks_missing != missing)
		*whole = false;
	else if (k->user_stack)
		cache_stack(o, k->pid, k->user_stack, o->loc_ids + at, nr_user);
	return 0;
}

/* The row's locations into o->loc_ids (kernel frames, then user frames), from its cache,
 * from the stacks' caches, or from the kernel's stack table. */
static int row_locations(struct gp_offcpu *o, struct row *r, uint32_t *nr, uint32_t *nr_user_out)
{
	uint32_t n = 0, nr_user = 0;
	bool whole = true;
	int err;

	if (r->locs && r->gen == o->gen) {
		memcpy(o->loc_ids, r->locs, r->nr_locs * sizeof(*r->locs));
		*nr = r->nr_locs;
		*nr_user_out = r->nr_user;
		return 0;
	}
	err = kernel_locations(o, &r->key, &n, &whole);
	if (!err)
		err = user_locations(o, &r->key, n, &nr_user, &whole);
	if (err)
		return err;
	n += nr_user;
	*nr = n;
	*nr_user_out = nr_user;
	if (!whole)
		return 0; /* a stack was gone: not kept, the next drain may find it */
	free(r->locs);
	r->locs = malloc((n ? n : 1) * sizeof(*r->locs));
	if (r->locs) {
		memcpy(r->locs, o->loc_ids, n * sizeof(*r->locs));
		r->nr_locs = n;
		r->nr_user = nr_user;
		r->gen = o->gen;
	}
	return 0;
}

/* Adds one row's growth (count, ns) to the profile. */
static int add_sample(struct gp_offcpu *o, struct row *r, int64_t count, int64_t ns)
{
	const struct gp_offcpu_key *k = &r->key;
	int64_t values[2] = { count, ns };
	struct gp_label_in labels[3];
	struct gp_sample_in s = { .values = values, .locations = o->loc_ids, .labels = labels };
	uint32_t n, nr_user;
	const char *name = o->name ? o->name(o->cb_ctx, k->pid) : NULL, *idle;
	char root[GOPROF_COMM_LEN + 32];
	int err = row_locations(o, r, &n, &nr_user);

	if (err)
		return err;
	s.nr_locations = n;
	s.comm = name;
	/* Preempted or yielding: ready to run, waiting for a CPU rather than for an event. */
	if (k->flags & GP_OFFCPU_F_RUNNABLE)
		labels[s.nr_labels++] = (struct gp_label_in){ .key = "state", .str = "runnable" };
	idle = go_idle_function(o->prof, o->loc_ids + (n - nr_user), nr_user);
	if (idle) {
		snprintf(root, sizeof(root), "%s [idle Go threads]", name ? name : "");
		s.comm = root;
		labels[s.nr_labels++] = (struct gp_label_in){ .key = "thread", .str = "go-scheduler-idle" };
		labels[s.nr_labels++] = (struct gp_label_in){ .key = "idle_in", .str = idle };
	}
	return gp_profile_add_sample(o->prof, &s);
}

/* Adds what row key of table t gained since it was last read (v: its value now; emptied:
 * the entry was deleted as it was read). 0 or a negative errno (counted). */
static int take_row(struct gp_offcpu *o, int t, const struct gp_offcpu_key *key,
		    const struct gp_offcpu_value *v, bool emptied)
{
	struct row *r = find_row(o, key);
	struct gp_offcpu_value *seen;
	int err = 0;

	if (!r) {
		o->lost_aggregation++;
		return -ENOMEM;
	}
	seen = &r->seen[t];
	if (v->count != seen->count || v->total_ns != seen->total_ns) {
		err = add_sample(o, r, (int64_t)(v->count - seen->count),
				 (int64_t)(v->total_ns - seen->total_ns));
		if (err)
			o->lost_aggregation++;
	}
	/* Added or counted as lost: never twice. */
	*seen = emptied ? (struct gp_offcpu_value){ 0 } : *v;
	return err;
}

/* Rows read per bpf() call. */
#define DRAIN_BATCH ((__u32)(sizeof(((struct gp_offcpu *)0)->batch_keys) / sizeof(struct gp_offcpu_key)))

/*
 * Takes in kernel table t, emptying it (empty: the table not in use, which no program
 * has added to for a second) or leaving it (the table in use). Batches of DRAIN_BATCH
 * rows; key by key on kernels without batch operations.
 */
static int take_table(struct gp_offcpu *o, int t, bool empty)
{
	int fd = bpf_map__fd(t ? o->skel->maps.offcpu_table1 : o->skel->maps.offcpu_table0), ret = 0;
	struct gp_offcpu_key key, next, *prev = NULL;
	struct gp_offcpu_value v;
	__u64 in = 0, out = 0; /* the kernel's position in the table (a bucket, for a hash) */
	bool first = true;

	for (;;) {
		__u32 count = DRAIN_BATCH;
		int err = empty ? bpf_map_lookup_and_delete_batch(fd, first ? NULL : &in, &out,
								   o->batch_keys, o->batch_values,
								   &count, NULL)
				: bpf_map_lookup_batch(fd, first ? NULL : &in, &out, o->batch_keys,
						       o->batch_values, &count, NULL);
		int e = errno;

		if (err && e != ENOENT) {
			if (first)
				break; /* no batch operations here: the walk below */
			return ret; /* the next drain reads the rest */
		}
		for (__u32 i = 0; i < count; i++) {
			int r = take_row(o, t, &o->batch_keys[i], &o->batch_values[i], empty);

			if (r)
				ret = r;
		}
		if (err) /* ENOENT: the end of the table */
			return ret;
		in = out;
		first = false;
	}
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		int r;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		r = take_row(o, t, &key, &v, false);
		if (r)
			ret = r;
	}
	if (empty) /* deleted after the walk: deleting the key it stands on restarts it */
		for (uint32_t i = 0; i < o->nr_rows; i++)
			if (!bpf_map_delete_elem(fd, &o->rows[i].key))
				o->rows[i].seen[t] = (struct gp_offcpu_value){ 0 };
	return ret;
}

/* The table not in use: read it whole, emptied, then make it the one in use. Every
 * second (tick()); a program that chose the other table before the flip is long done
 * when that one is emptied, a second later. */
static int take_and_flip(struct gp_offcpu *o)
{
	int idle = !o->skel->bss->table_in_use, ret = take_table(o, idle, true);

	o->skel->bss->table_in_use = (__u32)idle;
	return ret;
}

int gp_offcpu_drain(struct gp_offcpu *o)
{
	int in_use = o->skel->bss->table_in_use ? 1 : 0;
	int a = take_table(o, !in_use, true), b = take_table(o, in_use, false);

	return a ? a : b;
}

/*
 * Drops the rows with no entry left in the kernel's tables: at a profile reset (their
 * locations are stale), and when there are more than two tables' worth (rows no longer
 * mirror one table and would accumulate; a row that comes back finds its stacks cached).
 */
static void forget_rows(struct gp_offcpu *o)
{
	uint32_t kept = 0;

	for (uint32_t i = 0; i < o->nr_rows; i++) {
		struct row *r = &o->rows[i];

		if (!r->seen[0].count && !r->seen[0].total_ns && !r->seen[1].count &&
		    !r->seen[1].total_ns) {
			free(r->locs);
			continue;
		}
		o->rows[kept++] = *r;
	}
	o->nr_rows = kept;
	gp_idmap_clear(&o->row_idx);
	for (uint32_t i = 0; i < kept; i++)
		if (gp_idmap_insert(&o->row_idx, row_hash(&o->rows[i].key), i + 1)) {
			for (uint32_t j = i; j < kept; j++) /* out of memory: counted */
				free(o->rows[j].locs);
			o->lost_aggregation += kept - i;
			o->nr_rows = i;
			break;
		}
}

static bool stack_in_use(const struct gp_offcpu *o, uint64_t hash)
{
	for (uint32_t i = 0; i < o->nr_rows; i++)
		if (o->rows[i].key.user_stack == hash || o->rows[i].key.kernel_stack == hash)
			return true;
	return false;
}

void gp_offcpu_forget_pid(struct gp_offcpu *o, uint32_t pid)
{
	int fds[2] = { bpf_map__fd(o->skel->maps.offcpu_table0),
			bpf_map__fd(o->skel->maps.offcpu_table1) };
	int stacks_fd = bpf_map__fd(o->skel->maps.offcpu_stacks);
	uint32_t kept = 0, nr_gone;
	struct row *gone;

	/* Kernel rows and their mirror go together: a row the kernel adds back later (a
	 * last interval) starts from zero on both sides. The process's rows move to the end. */
	for (uint32_t i = 0; i < o->nr_rows; i++) {
		struct row r = o->rows[i];

		if (r.key.pid == pid) {
			bpf_map_delete_elem(fds[0], &r.key);
			bpf_map_delete_elem(fds[1], &r.key);
			continue;
		}
		o->rows[i] = o->rows[kept];
		o->rows[kept++] = r;
	}
	if (kept == o->nr_rows)
		goto out;
	gone = o->rows + kept;
	nr_gone = o->nr_rows - kept;
	o->nr_rows = kept;
	/* Stacks no other process's row refers to go too, so that processes coming and going
	 * (each PIE process with addresses of its own) do not fill the stack table. A live
	 * process switched out on one of them before having a row loses that one stack
	 * (counted in stacks_missing); its next switch-out stores it again. */
	for (uint32_t i = 0; i < nr_gone; i++) {
		uint64_t stacks[2] = { gone[i].key.user_stack, gone[i].key.kernel_stack };

		for (int k = 0; k < 2; k++)
			if (stacks[k] && !stack_in_use(o, stacks[k]))
				bpf_map_delete_elem(stacks_fd, &stacks[k]);
		free(gone[i].locs);
	}
	gp_idmap_clear(&o->row_idx);
	for (uint32_t i = 0; i < kept && o->nr_rows == kept; i++)
		if (gp_idmap_insert(&o->row_idx, row_hash(&o->rows[i].key), i + 1))
			o->nr_rows = i; /* out of memory: forget the rest, counted below */
	for (uint32_t i = o->nr_rows; i < kept; i++)
		free(o->rows[i].locs);
	o->lost_aggregation += kept - o->nr_rows;
out:
	forget_stacks(o, false, pid);
	gp_loc_resolver_forget_pid(&o->locs, pid);
}

struct goprof_profile *gp_offcpu_snapshot(struct gp_offcpu *o, bool reset)
{
	struct goprof_profile *copy, *fresh;

	gp_offcpu_drain(o); /* failures are counted */
	gp_profile_set_time(o->prof, o->start_wall_ns, gp_clock_ns(CLOCK_MONOTONIC) - o->start_mono_ns);
	copy = gp_profile_clone(o->prof);
	if (!copy || !reset)
		return copy;
	/* A new interval starts from empty tables, the symbolization caches included. */
	o->gen++;
	forget_stacks(o, true, 0);
	forget_rows(o);
	fresh = gp_contention_profile_new();
	if (fresh) {
		gp_loc_resolver_restart(&o->locs, fresh);
		goprof_profile_free(o->prof);
		o->prof = fresh;
	} else {
		gp_profile_reset(o->prof);
	}
	mark_start(o);
	return copy;
}

void gp_offcpu_stats(struct gp_offcpu *o, struct gp_offcpu_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->lost_aggregation = o->lost_aggregation;
	st->stacks_missing = o->stacks_missing;
	gp_map_sum_percpu_all(o->skel->maps.offcpu_counters, st->counters, GP_OFFCPU_CNT_NR);
}

enum gp_offcpu_verdict gp_offcpu_budget_check(struct gp_offcpu *o, uint64_t now_ns,
					      uint64_t target_cpu_ns, uint32_t budget_bp,
					      char *msg, size_t msg_len)
{
	struct gp_offcpu_stats st;
	uint64_t out, sampled, cost, cpu = 0, elapsed = 0, every, need;
	enum gp_window_step step;

	step = gp_budget_window_step(&o->window, now_ns, target_cpu_ns, &elapsed, &cpu);
	if (step == GP_WINDOW_OPEN)
		return GP_OFFCPU_WITHIN_BUDGET;
	gp_offcpu_stats(o, &st);
	out = st.counters[GP_OFFCPU_CNT_TARGET_OUT] - o->window_out;
	sampled = st.counters[GP_OFFCPU_CNT_SAMPLED] - o->window_sampled;
	o->window_out = st.counters[GP_OFFCPU_CNT_TARGET_OUT];
	o->window_sampled = st.counters[GP_OFFCPU_CNT_SAMPLED];
	if (step == GP_WINDOW_STARTED)
		return GP_OFFCPU_WITHIN_BUDGET;
	cost = sampled * GP_OFFCPU_SAMPLED_NS + (out - GP_MIN(out, sampled)) * GP_OFFCPU_SKIPPED_NS;
	o->cost_ns += cost;
	if (!o->link || !gp_budget_exceeded(cost, cpu, budget_bp))
		return GP_OFFCPU_WITHIN_BUDGET;
	/* Sampled cost shrinks with N; the skipped switch-outs' cost does not. */
	every = gp_offcpu_sample_every(o);
	need = (uint64_t)budget_bp * cpu / 10000; /* affordable ns in a window */
	while (every < 2 * GP_OFFCPU_MAX_SAMPLE_EVERY &&
	       (sampled * GP_OFFCPU_SAMPLED_NS * gp_offcpu_sample_every(o) / every +
		out * GP_OFFCPU_SKIPPED_NS) > need)
		every *= 2;
	if (every > GP_OFFCPU_MAX_SAMPLE_EVERY) {
		gp_offcpu_detach(o);
		snprintf(msg, msg_len, "off-CPU profile (sched_switch) detached: %.0f switch-outs/s "
			 "cost about %.1f%% of the profiled processes' CPU, above the budget of "
			 "%.2f%% even when sampling 1 in %u", out * 1e9 / elapsed,
			 cpu ? 100.0 * cost / cpu : 100.0, budget_bp / 100.0, GP_OFFCPU_MAX_SAMPLE_EVERY);
		return GP_OFFCPU_DETACHED;
	}
	snprintf(msg, msg_len, "off-CPU profile (sched_switch) throttled to 1 switch-out in %llu: "
		 "%.0f switch-outs/s cost about %.1f%% of the profiled processes' CPU, above the "
		 "budget of %.2f%%", (unsigned long long)every, out * 1e9 / elapsed,
		 cpu ? 100.0 * cost / cpu : 100.0, budget_bp / 100.0);
	gp_offcpu_set_sample_every(o, (uint32_t)every);
	return GP_OFFCPU_THROTTLED;
}

uint64_t gp_offcpu_cost_ns(const struct gp_offcpu *o)
{
	return o->cost_ns;
}

/* ---- the capability (capability.h) ---- */

/* The most 1-in-N sampling a caller may ask for (the budget stops at
 * GP_OFFCPU_MAX_SAMPLE_EVERY). */
#define MAX_ASKED_SAMPLE_EVERY (1u << 20)

static int validate(const struct goprof_session_opts *opts, uint32_t features)
{
	uint32_t min_us = OPTS_GET(opts, offcpu_min_us, 0), max_us = OPTS_GET(opts, offcpu_max_us, 0);
	uint32_t every = OPTS_GET(opts, offcpu_sample_every, 0);

	if (!(features & GOPROF_FEATURE_OFFCPU) && (min_us || max_us || every))
		return gp_err(-EINVAL, "goprof_session_opts.offcpu_*: set without "
				       "GOPROF_FEATURE_OFFCPU in features");
	if (max_us && max_us < GP_MAX(min_us, 1u))
		return gp_err(-EINVAL, "goprof_session_opts.offcpu_max_us: %u us is below "
				       "offcpu_min_us (%u us): no interval could be counted",
			      max_us, GP_MAX(min_us, 1u));
	if (every > MAX_ASKED_SAMPLE_EVERY)
		return gp_err(-EINVAL, "goprof_session_opts.offcpu_sample_every: 1 in %u is above "
				       "the maximum of 1 in %u", every, MAX_ASKED_SAMPLE_EVERY);
	return 0;
}

static void *create(const struct gp_host *h)
{
	struct gp_offcpu_config oc = {
		.min_ns = (uint64_t)GP_MAX(OPTS_GET(h->opts, offcpu_min_us, 0), 1u) * 1000,
		.max_ns = (uint64_t)OPTS_GET(h->opts, offcpu_max_us, 0) * 1000,
		.sample_every = OPTS_GET(h->opts, offcpu_sample_every, 0),
		.user_depth = h->user_depth,
		.kernel_depth = h->kernel_depth,
		/* A knob for tests and for debugging a kernel: one attach flavour, no fallback. */
		.only_flavour = getenv("GOPROF_OFFCPU_ATTACH"),
	};
	struct gp_offcpu *o = gp_offcpu_new(&h->shared, h->sym, &oc);

	if (!o)
		return NULL;
	o->host = h;
	gp_offcpu_set_callbacks(o, h->process_name, h->exe_of_pid, h->session);
	return o;
}

static void destroy(void *cap)
{
	gp_offcpu_free(cap);
}

static int start(void *cap)
{
	return gp_offcpu_attach(cap);
}

static void stop(void *cap)
{
	gp_offcpu_detach(cap);
}

/*
 * Once a second: takes in the kernel's table not in use (symbolizing while the processes
 * run), flips the tables and holds the program to the overhead budget.
 */
static int tick(void *cap, uint64_t now_ns)
{
	struct gp_offcpu *o = cap;
	const struct gp_host *h = o->host;
	struct goprof_event ev = { .sz = sizeof(ev) };
	enum gp_offcpu_verdict verdict;
	char msg[256];

	if (now_ns - o->drained_ns < 1000000000ull)
		return 0;
	o->drained_ns = now_ns;
	take_and_flip(o); /* failures are counted */
	if (o->nr_rows > 2 * GP_OFFCPU_MAX_ENTRIES)
		forget_rows(o);
	verdict = gp_offcpu_budget_check(o, now_ns, h->targets_cpu_ns(h->session), h->budget_bp,
					 msg, sizeof(msg));
	if (verdict == GP_OFFCPU_WITHIN_BUDGET)
		return 0;
	if (verdict == GP_OFFCPU_DETACHED)
		h->count_detached(h->session);
	ev.type = verdict == GP_OFFCPU_THROTTLED ? GOPROF_EVENT_OFFCPU_THROTTLED
						  : GOPROF_EVENT_PROBE_DETACHED;
	ev.time_ns = now_ns;
	ev.message = msg;
	return h->emit(h->session, &ev);
}

/* An exited process's off-CPU time is in the kernel table: read while its symbols are
 * here. */
static void process_gone(void *cap, uint32_t pid, enum gp_process_change why)
{
	if (why != GP_PROCESS_EXITED)
		return;
	gp_offcpu_drain(cap);
	gp_offcpu_forget_pid(cap, pid);
}

static void fill_stats(void *cap, struct goprof_session_stats *st, const uint64_t *lost)
{
	struct gp_offcpu *o = cap;
	struct gp_offcpu_stats os;

	gp_offcpu_stats(o, &os);
	st->offcpu_switches = os.counters[GP_OFFCPU_CNT_SWITCHES];
	st->offcpu_switch_outs = os.counters[GP_OFFCPU_CNT_TARGET_OUT];
	st->offcpu_intervals = os.counters[GP_OFFCPU_CNT_RECORDED];
	st->offcpu_filtered = os.counters[GP_OFFCPU_CNT_FILTERED];
	st->offcpu_stacks_lost = os.counters[GP_OFFCPU_CNT_STACK_LOST] + os.stacks_missing;
	st->lost_offcpu = lost[GP_LOST_OFFCPU];
	st->lost_aggregation += os.lost_aggregation;
	st->offcpu_sample_every = gp_offcpu_sample_every(o);
	st->offcpu_attached = gp_offcpu_attached(o);
	st->probe_cost_ns += gp_offcpu_cost_ns(o);
}

const struct gp_cap_ops gp_cap_offcpu = {
	.name = "offcpu",
	.features = GOPROF_FEATURE_OFFCPU,
	.validate = validate,
	.create = create,
	.destroy = destroy,
	.start = start,
	.stop = stop,
	.tick = tick,
	.process_gone = process_gone,
	.fill_stats = fill_stats,
};

GOPROF_API struct goprof_profile *goprof_session_snapshot_offcpu(struct goprof_session *s,
								 uint32_t flags)
{
	struct gp_offcpu *o;
	struct goprof_profile *p;

	gp_clear_error();
	if (!s)
		return gp_err_null(-EINVAL, "goprof_session_snapshot_offcpu: session is NULL");
	if (flags & ~GOPROF_SNAPSHOT_RESET)
		return gp_err_null(-EINVAL, "goprof_session_snapshot_offcpu: unknown flags 0x%x",
				   flags & ~GOPROF_SNAPSHOT_RESET);
	o = gp_session_cap(s, &gp_cap_offcpu);
	if (!o)
		return gp_err_null(-EINVAL, "goprof_session_snapshot_offcpu: the session was "
					    "created without GOPROF_FEATURE_OFFCPU");
	p = gp_offcpu_snapshot(o, flags & GOPROF_SNAPSHOT_RESET);
	return p ? p : gp_fail_null(errno ? -errno : -ENOMEM);
}
