// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Loading and attaching the Go runtime uprobes (goroutine lifecycle). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "go_func_sites.h"
#include "goprof/error.h"
#include "go_probes.h"
#include "go_runtime.skel.h"
#include "goprof/session.h"
#include "goprof/symbolizer.h"
#include "goprof_bpf.h"

struct probed_exe {
	dev_t dev;
	ino_t ino;
	uint32_t notes; /* GP_NOTE_* */
};

struct gp_go_probes {
	struct go_runtime_bpf *skel;
	uint32_t features;
	bool detached[GP_SET_NR];
	struct bpf_link **links;
	uint8_t *link_sets;       /* enum gp_probe_set of each link */
	size_t nr_links, links_cap, link_sets_cap;
	struct probed_exe *exes;
	size_t nr_exes, exes_cap;
};

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	void *p;
	size_t cap2;

	if (need <= *cap)
		return 0;
	cap2 = *cap ? *cap * 2 : 16;
	while (cap2 < need)
		cap2 *= 2;
	p = realloc(*arr, cap2 * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = cap2;
	return 0;
}

struct gp_go_probes *gp_go_probes_new(struct bpf_map *targets, struct bpf_map *ringbuf,
				      struct bpf_map *lost, uint32_t features)
{
	struct gp_go_probes *gp = calloc(1, sizeof(*gp));
	int err;

	if (!gp)
		return gp_err_null(-ENOMEM, "out of memory");
	gp->features = features;
	gp->skel = go_runtime_bpf__open();
	if (!gp->skel) {
		err = -errno;
		free(gp);
		return gp_err_null(err, "opening the embedded Go runtime BPF object failed");
	}
	err = bpf_map__reuse_fd(gp->skel->maps.targets, bpf_map__fd(targets));
	if (!err)
		err = bpf_map__reuse_fd(gp->skel->maps.samples, bpf_map__fd(ringbuf));
	if (!err)
		err = bpf_map__reuse_fd(gp->skel->maps.lost, bpf_map__fd(lost));
	if (!err)
		err = go_runtime_bpf__load(gp->skel);
	if (err) {
		gp_go_probes_free(gp);
		return gp_err_null(err == -EPERM ? -EPERM : -GOPROF_ERRNO_VERIFIER,
				   "loading the Go runtime probes failed: %s; set GOPROF_DEBUG=1 for "
				   "the verifier log", strerror(-err));
	}
	return gp;
}

void gp_go_probes_free(struct gp_go_probes *gp)
{
	if (!gp)
		return;
	for (size_t i = 0; i < gp->nr_links; i++)
		bpf_link__destroy(gp->links[i]);
	free(gp->links);
	free(gp->link_sets);
	free(gp->exes);
	go_runtime_bpf__destroy(gp->skel);
	free(gp);
}

static int attach_at(struct gp_go_probes *gp, struct bpf_program *prog, const char *path,
		     uint64_t offset, enum gp_probe_set set)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = false);
	struct bpf_link *link;
	int err = grow((void **)&gp->links, &gp->links_cap, gp->nr_links + 1, sizeof(*gp->links));

	if (!err)
		err = grow((void **)&gp->link_sets, &gp->link_sets_cap, gp->nr_links + 1,
			   sizeof(*gp->link_sets));
	if (err)
		return gp_err(err, "out of memory");
	/* pid -1: every process running this file; the program filters by target. */
	link = bpf_program__attach_uprobe_opts(prog, -1, path, offset, &opts);
	if (!link)
		return gp_err(-errno, "uprobe on %s at file offset 0x%llx: %s", path,
			      (unsigned long long)offset, strerror(errno));
	gp->link_sets[gp->nr_links] = (uint8_t)set;
	gp->links[gp->nr_links++] = link;
	return 0;
}

/* Attaches prog at the entry of fn, or at each of its RETs. */
static int attach_function(struct gp_go_probes *gp, struct goprof_binary *bin, const char *path,
			   const char *fn, bool at_rets, struct bpf_program *prog, enum gp_probe_set set)
{
	struct gp_func_sites sites;
	int err = gp_go_func_sites(bin, fn, at_rets, &sites);

	if (err)
		return err;
	if (!at_rets)
		return attach_at(gp, prog, path, sites.probe_offset, set);
	if (!sites.nr_rets)
		return gp_err(-ENOENT, "%s: %s has no RET instruction to probe", path, fn);
	for (uint32_t i = 0; i < sites.nr_rets && !err; i++)
		err = attach_at(gp, prog, path, sites.ret_offsets[i], set);
	return err;
}

/* One probe: a runtime function, at its entry or at its RETs, running a program. */
struct probe_spec {
	const char *function;
	bool at_rets;
	size_t prog_offset; /* offsetof(struct go_runtime_bpf, progs.X) */
};

#define PROBE(fn, rets, prog) { fn, rets, offsetof(struct go_runtime_bpf, progs.prog) }

static const struct probe_spec goroutine_probes[] = {
	PROBE("runtime.newproc", false, go_newproc),
	PROBE("runtime.newproc1", true, go_newproc1_ret),
	PROBE("runtime.goexit1", false, go_goexit1),
};

static const struct probe_spec gc_probes[] = {
	PROBE("runtime.gcStart", false, go_gc_start),
	PROBE("runtime.gcStart", true, go_gc_start_ret),
	PROBE("runtime.gcMarkTermination", false, go_gc_markterm),
	PROBE("runtime.gcMarkTermination", true, go_gc_markterm_ret),
	PROBE("runtime.stopTheWorldWithSema", false, go_stw_stop),
	PROBE("runtime.startTheWorldWithSema", true, go_stw_started),
};

static const struct probe_spec heap_probes[] = {
	PROBE("runtime.mProf_Malloc", false, go_mprof_malloc),
	PROBE("runtime.mProf_Free", false, go_mprof_free),
};

static const struct probe_spec alloc_probes[] = {
	PROBE("runtime.mallocgc", false, go_mallocgc),
};

static const struct probe_spec sched_probes[] = {
	PROBE("runtime.casgstatus", false, go_casgstatus),
};

static int attach_set(struct gp_go_probes *gp, struct goprof_binary *bin, const char *path,
		      const struct probe_spec *specs, size_t n, enum gp_probe_set set)
{
	int err = 0;

	if (gp->detached[set])
		return 0; /* over budget earlier in the session */
	for (size_t i = 0; i < n && !err; i++) {
		struct bpf_program *prog =
			*(struct bpf_program **)((char *)gp->skel + specs[i].prog_offset);

		err = attach_function(gp, bin, path, specs[i].function, specs[i].at_rets, prog, set);
	}
	return err;
}

/* Memory profiling is on in a Go binary iff runtime.MemProfile survived dead-code removal. */
static bool memory_profiling_on(struct goprof_binary *bin)
{
	struct gp_func_sites sites;
	char saved[256];
	bool on;

	gp_strlcpy(saved, goprof_last_error(), sizeof(saved));
	on = gp_go_func_sites(bin, "runtime.MemProfile", false, &sites) == 0;
	gp_err(0, "%s", saved);
	return on;
}

int gp_go_probes_attach_exe(struct gp_go_probes *gp, const char *path, uint32_t *notes)
{
	struct goprof_binary *bin;
	size_t first_link = gp->nr_links;
	struct stat st;
	int err;

	if (stat(path, &st))
		return gp_err(-errno, "%s: %s", path, strerror(errno));
	*notes = 0;
	for (size_t i = 0; i < gp->nr_exes; i++)
		if (gp->exes[i].dev == st.st_dev && gp->exes[i].ino == st.st_ino) {
			*notes = gp->exes[i].notes;
			return 0;
		}
	bin = goprof_binary_open(path, NULL);
	if (!bin)
		return -errno;
	err = 0;
	if (gp->features & GOPROF_FEATURE_GOROUTINES)
		err = attach_set(gp, bin, path, goroutine_probes, ARRAY_SIZE(goroutine_probes),
				 GP_SET_GOROUTINES);
	if (!err && gp->features & GOPROF_FEATURE_GC)
		err = attach_set(gp, bin, path, gc_probes, ARRAY_SIZE(gc_probes), GP_SET_GC);
	if (!err && gp->features & GOPROF_FEATURE_ALLOCS)
		err = attach_set(gp, bin, path, alloc_probes, ARRAY_SIZE(alloc_probes), GP_SET_ALLOCS);
	if (!err && gp->features & GOPROF_FEATURE_SCHED)
		err = attach_set(gp, bin, path, sched_probes, ARRAY_SIZE(sched_probes), GP_SET_SCHED);
	if (!err && gp->features & GOPROF_FEATURE_HEAP) {
		if (memory_profiling_on(bin))
			err = attach_set(gp, bin, path, heap_probes, ARRAY_SIZE(heap_probes), GP_SET_HEAP);
		else
			*notes |= GP_NOTE_HEAP_OFF;
	}
	goprof_binary_free(bin);
	if (!err)
		err = grow((void **)&gp->exes, &gp->exes_cap, gp->nr_exes + 1, sizeof(*gp->exes));
	if (err) {
		/* All or nothing: half a set of probes would report wrong lifetimes. */
		while (gp->nr_links > first_link)
			bpf_link__destroy(gp->links[--gp->nr_links]);
		return err;
	}
	gp->exes[gp->nr_exes++] = (struct probed_exe){ st.st_dev, st.st_ino, *notes };
	return 0;
}

void gp_go_probes_hits(struct gp_go_probes *gp, uint64_t *hits)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 *vals = ncpus > 0 ? calloc(ncpus, sizeof(*vals)) : NULL;

	for (__u32 p = 0; p < GP_PROBE_NR; p++) {
		hits[p] = 0;
		if (vals && bpf_map__lookup_elem(gp->skel->maps.probe_hits, &p, sizeof(p), vals,
						 ncpus * sizeof(*vals), 0) == 0)
			for (int i = 0; i < ncpus; i++)
				hits[p] += vals[i];
	}
	free(vals);
}

unsigned gp_go_probes_count(const struct gp_go_probes *gp)
{
	return (unsigned)gp->nr_links;
}

const char *gp_probe_set_name(enum gp_probe_set set)
{
	static const char *const names[GP_SET_NR] = {
		[GP_SET_GOROUTINES] = "runtime.newproc/newproc1/goexit1 (goroutines)",
		[GP_SET_GC] = "runtime.gcStart/gcMarkTermination/stop-start-the-world (GC)",
		[GP_SET_HEAP] = "runtime.mProf_Malloc/mProf_Free (heap)",
		[GP_SET_SCHED] = "runtime.casgstatus (scheduling latency)",
		[GP_SET_ALLOCS] = "runtime.mallocgc (every allocation)",
	};

	return set < GP_SET_NR ? names[set] : "?";
}

uint64_t gp_go_probes_set_hits(struct gp_go_probes *gp, enum gp_probe_set set)
{
	uint64_t hits[GP_PROBE_NR];

	gp_go_probes_hits(gp, hits);
	switch (set) {
	case GP_SET_GOROUTINES:
		return hits[GP_PROBE_NEWPROC] + hits[GP_PROBE_NEWPROC1_RET] + hits[GP_PROBE_GOEXIT1];
	case GP_SET_GC:
		return hits[GP_PROBE_GC];
	case GP_SET_HEAP:
		return hits[GP_PROBE_HEAP];
	case GP_SET_SCHED:
		return hits[GP_PROBE_SCHED];
	case GP_SET_ALLOCS:
		return hits[GP_PROBE_MALLOCGC];
	default:
		return 0;
	}
}

void gp_go_probes_detach_set(struct gp_go_probes *gp, enum gp_probe_set set)
{
	size_t kept = 0;

	for (size_t i = 0; i < gp->nr_links; i++) {
		if (gp->link_sets[i] == set) {
			bpf_link__destroy(gp->links[i]);
			continue;
		}
		gp->links[kept] = gp->links[i];
		gp->link_sets[kept++] = gp->link_sets[i];
	}
	gp->nr_links = kept;
	gp->detached[set] = true;
}

bool gp_go_probes_set_active(const struct gp_go_probes *gp, enum gp_probe_set set)
{
	static const uint32_t feature_of[GP_SET_NR] = {
		[GP_SET_GOROUTINES] = GOPROF_FEATURE_GOROUTINES,
		[GP_SET_GC] = GOPROF_FEATURE_GC,
		[GP_SET_HEAP] = GOPROF_FEATURE_HEAP,
		[GP_SET_SCHED] = GOPROF_FEATURE_SCHED,
		[GP_SET_ALLOCS] = GOPROF_FEATURE_ALLOCS,
	};

	return (gp->features & feature_of[set]) && !gp->detached[set];
}

int gp_go_probes_foreach_sched(struct gp_go_probes *gp, gp_sched_fn fn, void *ctx)
{
	struct gp_goroutine_key key, next, *prev = NULL;
	struct gp_sched_stats st;
	int fd = bpf_map__fd(gp->skel->maps.sched), ret;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &st))
			continue;
		ret = fn(&key, &st, ctx);
		if (ret)
			return ret;
	}
	return 0;
}
