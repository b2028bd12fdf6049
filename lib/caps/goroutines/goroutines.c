// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Goroutine lifecycle table and its profiles (goroutine profile, leak report). */
#include <stdlib.h>
#include <time.h>

#include "caps/goroutines/goroutines.h"
#include "goprof/profile.h"
#include "profile/loc_resolver.h"
#include "profile/idmap.h"
#include "profile/profile_internal.h"

#define MAX_PENDING 1024

/* A creation record waiting for its new g (same thread, next record). */
struct pending {
	uint32_t pid, tid;
	uint64_t parent_goid, time_ns;
	uint32_t stack_id;
	bool used;
};

struct stack {
	uint32_t pid, nr;
	uint64_t *addrs;
};

struct goroutine {
	uint32_t pid;
	uint32_t stack_id; /* 1-based into stacks[]; 0: unknown */
	uint64_t goid, parent_goid, created_ns;
	int32_t next;      /* chain in the bucket, -1 ends; free list when dead */
	bool live;
};

struct gp_goroutines {
	struct goprof_symbolizer *sym;
	struct pending pending[MAX_PENDING];
	uint32_t next_pending;

	struct stack *stacks;
	size_t nr_stacks, stacks_cap;
	struct gp_idmap stack_idx;

	struct goroutine *gs;
	size_t nr_gs, gs_cap;
	int32_t free_list;
	int32_t *buckets; /* heads of chains, -1 empty */
	size_t nr_buckets;
	struct gp_goroutine_stats st;
};

struct gp_goroutines *gp_goroutines_new(struct goprof_symbolizer *sym)
{
	struct gp_goroutines *t = calloc(1, sizeof(*t));

	if (!t)
		return gp_err_null(-ENOMEM, "out of memory");
	t->sym = sym;
	t->free_list = -1;
	return t;
}

void gp_goroutines_free(struct gp_goroutines *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nr_stacks; i++)
		free(t->stacks[i].addrs);
	free(t->stacks);
	gp_idmap_free(&t->stack_idx);
	free(t->gs);
	free(t->buckets);
	free(t);
}

static uint32_t stack_hash(uint32_t pid, const uint64_t *addrs, uint32_t n)
{
	return gp_hash_fold(gp_hash_bytes(addrs, n * sizeof(*addrs), pid));
}

struct stack_key {
	uint32_t pid, nr;
	const uint64_t *addrs;
};

static bool stack_eq(const void *tables, uint32_t id, const void *key)
{
	const struct stack *a = &((const struct gp_goroutines *)tables)->stacks[id - 1];
	const struct stack_key *b = key;

	return a->pid == b->pid && a->nr == b->nr && !memcmp(a->addrs, b->addrs, b->nr * sizeof(*b->addrs));
}

/* Interns a creation stack; *id is 1-based. */
static int intern_stack(struct gp_goroutines *t, uint32_t pid, const uint64_t *addrs, uint32_t n,
			uint32_t *id)
{
	struct stack_key key = { pid, n, addrs };
	uint32_t h = stack_hash(pid, addrs, n);
	struct stack *s;

	*id = gp_idmap_find(&t->stack_idx, h, stack_eq, t, &key);
	if (*id)
		return 0;
	if (t->nr_stacks == t->stacks_cap) {
		size_t cap = t->stacks_cap ? 2 * t->stacks_cap : 64;

		s = realloc(t->stacks, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		t->stacks = s;
		t->stacks_cap = cap;
	}
	s = &t->stacks[t->nr_stacks];
	s->pid = pid;
	s->nr = n;
	s->addrs = malloc(n * sizeof(*addrs) + 1);
	if (!s->addrs)
		return -ENOMEM;
	memcpy(s->addrs, addrs, n * sizeof(*addrs));
	*id = (uint32_t)++t->nr_stacks;
	return gp_idmap_insert(&t->stack_idx, h, *id);
}

int gp_goroutines_newproc(struct gp_goroutines *t, const struct gp_newproc_event *ev)
{
	struct pending *p = NULL;
	uint32_t id;
	int err = intern_stack(t, ev->pid, (const uint64_t *)ev->stack,
			       GP_MIN(ev->nr_stack, GP_CREATION_STACK_DEPTH), &id);

	if (err)
		return err;
	for (int i = 0; i < MAX_PENDING && !p; i++)
		if (t->pending[i].used && t->pending[i].pid == ev->pid && t->pending[i].tid == ev->tid)
			p = &t->pending[i];
	if (!p) {
		/* Round robin: a record whose new g never came is overwritten eventually. */
		p = &t->pending[t->next_pending];
		t->next_pending = (t->next_pending + 1) % MAX_PENDING;
	}
	*p = (struct pending){ .pid = ev->pid, .tid = ev->tid, .parent_goid = ev->parent_goid,
			       .time_ns = ev->time_ns, .stack_id = id, .used = true };
	return 0;
}

static size_t bucket_of(const struct gp_goroutines *t, uint32_t pid, uint64_t goid)
{
	return gp_hash_mix(pid, goid) & (t->nr_buckets - 1);
}

static int rehash(struct gp_goroutines *t)
{
	size_t n = t->nr_buckets ? t->nr_buckets * 2 : 1024;
	int32_t *b = malloc(n * sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		b[i] = -1;
	free(t->buckets);
	t->buckets = b;
	t->nr_buckets = n;
	for (size_t i = 0; i < t->nr_gs; i++) {
		struct goroutine *g = &t->gs[i];
		size_t k;

		if (!g->live)
			continue;
		k = bucket_of(t, g->pid, g->goid);
		g->next = b[k];
		b[k] = (int32_t)i;
	}
	return 0;
}

/* Index of a free slot for a goroutine entry, or -1 on ENOMEM. */
static int32_t alloc_slot(struct gp_goroutines *t)
{
	int32_t i = t->free_list;

	if (i >= 0) {
		t->free_list = t->gs[i].next;
		return i;
	}
	if (t->nr_gs == t->gs_cap) {
		size_t cap = t->gs_cap ? 2 * t->gs_cap : 1024;
		struct goroutine *gs = realloc(t->gs, cap * sizeof(*gs));

		if (!gs)
			return -1;
		t->gs = gs;
		t->gs_cap = cap;
	}
	return (int32_t)t->nr_gs++;
}

static void unlink_goroutine(struct gp_goroutines *t, uint32_t pid, uint64_t goid)
{
	int32_t *link;

	if (!t->nr_buckets)
		return;
	for (link = &t->buckets[bucket_of(t, pid, goid)]; *link >= 0; link = &t->gs[*link].next) {
		struct goroutine *g = &t->gs[*link];
		int32_t i = *link;

		if (g->pid != pid || g->goid != goid)
			continue;
		*link = g->next;
		g->live = false;
		g->next = t->free_list;
		t->free_list = i;
		t->st.live--;
		return;
	}
}

int gp_goroutines_newg(struct gp_goroutines *t, const struct gp_goroutine_event *ev,
		       uint64_t *parent_goid)
{
	struct pending *p = NULL;
	struct goroutine *g;
	int32_t i;
	size_t k;

	for (int j = 0; j < MAX_PENDING && !p; j++)
		if (t->pending[j].used && t->pending[j].pid == ev->pid && t->pending[j].tid == ev->tid)
			p = &t->pending[j];
	if (!p)
		t->st.unpaired++;
	/* g structs are reused: a goid still listed means we missed its exit. */
	unlink_goroutine(t, ev->pid, ev->goid);
	if ((t->st.live + 1) * 2 > t->nr_buckets && rehash(t))
		return -ENOMEM;
	i = alloc_slot(t);
	if (i < 0)
		return -ENOMEM;
	g = &t->gs[i];
	*g = (struct goroutine){
		.pid = ev->pid,
		.goid = ev->goid,
		.parent_goid = p ? p->parent_goid : 0,
		.stack_id = p ? p->stack_id : 0,
		.created_ns = ev->time_ns,
		.live = true,
	};
	k = bucket_of(t, g->pid, g->goid);
	g->next = t->buckets[k];
	t->buckets[k] = i;
	*parent_goid = g->parent_goid;
	if (p)
		p->used = false;
	t->st.created++;
	t->st.live++;
	return 0;
}

void gp_goroutines_exit(struct gp_goroutines *t, const struct gp_goroutine_event *ev)
{
	t->st.exited++;
	unlink_goroutine(t, ev->pid, ev->goid);
}

void gp_goroutines_forget_pid(struct gp_goroutines *t, uint32_t pid)
{
	for (size_t i = 0; i < t->nr_gs; i++)
		if (t->gs[i].live && t->gs[i].pid == pid)
			unlink_goroutine(t, pid, t->gs[i].goid);
	for (int j = 0; j < MAX_PENDING; j++)
		if (t->pending[j].pid == pid)
			t->pending[j].used = false;
}

struct group {
	uint64_t count, sum_age, max_age;
};

int gp_goroutines_add_site_sample(struct gp_goroutines *t, struct goprof_profile *p,
				  struct gp_loc_resolver *r, uint32_t stack_id, uint32_t pid,
				  const int64_t *values, const struct gp_label_in *labels,
				  uint32_t nr_labels)
{
	uint32_t ids[GP_CREATION_STACK_DEPTH], n = 0;
	struct gp_sample_in s = { .values = values, .labels = labels, .nr_labels = nr_labels };
	int err;

	if (stack_id && stack_id <= t->nr_stacks) {
		const struct stack *st = &t->stacks[stack_id - 1];

		err = gp_loc_resolve_user_stack(r, pid, st->addrs, st->nr, true, ids, &n);
		if (err)
			return err;
	}
	/* Its creation was not seen (it was created before the session attached). */
	if (!n && (err = gp_profile_placeholder(&ids[n++], p, stack_id ? "[creation stack unreadable]"
									 : "[created before attach]")))
		return err;
	s.locations = ids;
	s.nr_locations = n;
	return gp_profile_add_sample(p, &s);
}

static int add_group(struct gp_goroutines *t, struct goprof_profile *p, struct gp_loc_resolver *r,
		     uint32_t stack_id, uint32_t pid, const struct group *grp)
{
	int64_t values[2] = { (int64_t)grp->count, (int64_t)grp->sum_age };
	struct gp_label_in labels[2] = {
		{ .key = "pid", .num = pid },
		{ .key = "oldest_age", .num = (int64_t)grp->max_age, .num_unit = "nanoseconds" },
	};

	return gp_goroutines_add_site_sample(t, p, r, stack_id, pid, values, labels, 2);
}

uint32_t gp_goroutines_stack_of(const struct gp_goroutines *t, uint32_t pid, uint64_t goid)
{
	if (!t->nr_buckets)
		return 0;
	for (int32_t i = t->buckets[bucket_of(t, pid, goid)]; i >= 0; i = t->gs[i].next)
		if (t->gs[i].pid == pid && t->gs[i].goid == goid)
			return t->gs[i].stack_id;
	return 0;
}

uint32_t gp_goroutines_nr_stacks(const struct gp_goroutines *t)
{
	return (uint32_t)t->nr_stacks;
}

uint32_t gp_goroutines_stack_pid(const struct gp_goroutines *t, uint32_t stack_id)
{
	return stack_id && stack_id <= t->nr_stacks ? t->stacks[stack_id - 1].pid : 0;
}

struct goprof_profile *gp_goroutines_snapshot(struct gp_goroutines *t, uint64_t now_ns,
					      uint64_t min_age_ns)
{
	static const struct gp_value_type types[] = {
		{ "goroutine", "count" },
		{ "age", "nanoseconds" },
	};
	struct gp_profile_desc desc = { .sample_types = types, .nr_sample_types = 2,
					.default_sample_type = "goroutine" };
	/* One group per creation stack; unknown stacks (id 0) grouped per process below. */
	struct group *groups = calloc(t->nr_stacks + 1, sizeof(*groups));
	struct goprof_profile *p = gp_profile_new(&desc);
	struct gp_loc_resolver r;
	int err = 0;

	if (!groups || !p) {
		free(groups);
		goprof_profile_free(p);
		return gp_err_null(-ENOMEM, "out of memory building the goroutine profile");
	}
	gp_loc_resolver_init(&r, t->sym, p);
	for (size_t i = 0; i < t->nr_gs && !err; i++) {
		const struct goroutine *g = &t->gs[i];
		uint64_t age = now_ns > g->created_ns ? now_ns - g->created_ns : 0;
		struct group *grp;

		if (!g->live || age < min_age_ns)
			continue;
		if (!g->stack_id) {
			/* Rare (a lost creation record): a group of its own per goroutine. */
			struct group one = { 1, age, age };

			err = add_group(t, p, &r, 0, g->pid, &one);
			continue;
		}
		grp = &groups[g->stack_id];
		grp->count++;
		grp->sum_age += age;
		grp->max_age = GP_MAX(grp->max_age, age);
	}
	for (size_t id = 1; id <= t->nr_stacks && !err; id++)
		if (groups[id].count)
			err = add_group(t, p, &r, (uint32_t)id, t->stacks[id - 1].pid, &groups[id]);
	gp_loc_resolver_fini(&r);
	free(groups);
	if (err) {
		goprof_profile_free(p);
		return gp_err_null(err, "building the goroutine profile failed: %s", strerror(-err));
	}
	gp_profile_set_time(p, gp_clock_ns(CLOCK_REALTIME), 0);
	return p;
}

void gp_goroutines_stats(const struct gp_goroutines *t, struct gp_goroutine_stats *st)
{
	*st = t->st;
}
