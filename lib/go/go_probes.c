// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Loading and attaching the Go runtime uprobes (goroutine lifecycle). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/bpf_load.h"
#include "core/bpf_maps.h"
#include "go/go_func_sites.h"
#include "goprof/error.h"
#include "go/go_probes.h"
#include "go_runtime.skel.h"
#include "goprof/session.h"
#include "goprof/symbolizer.h"
#include "goprof_bpf.h"
#include "caps/http/http_probes.h"
#include "core/uprobe_links.h"

struct probed_exe {
	dev_t dev;
	ino_t ino;
	int pid;        /* the one process probed, or -1: every process running the file */
	uint32_t notes; /* GP_NOTE_* */
	uint32_t id;    /* links of this executable carry it */
	char http_note[160]; /* GP_NOTE_HTTP_OFF: why */
};

/* The tag's exe of links attached per process (gp_go_probes_attach_pid()). */
#define PID_LINK UINT32_MAX
/* Sets attached per process, never per executable: their other processes never trap. */
#define PER_PROCESS_FEATURES (GOPROF_FEATURE_GC | GOPROF_FEATURE_SCHED)

struct gp_go_probes {
	struct go_runtime_bpf *skel;
	uint32_t features;
	bool detached[GP_SET_NR];
	struct gp_uprobe_links links;
	struct probed_exe *exes;
	size_t nr_exes, exes_cap;
	uint32_t next_exe_id;        /* id of the next executable attached */
	struct gp_uprobe_place place; /* where attach_set() puts links */
	struct gp_http_probes *http; /* GOPROF_FEATURE_HTTP */
	char http_note[160];         /* of the last executable attached */
};

static int load_skel(struct go_runtime_bpf *skel, const struct gp_shared_maps *shared, bool multi)
{
	int err = gp_bpf_share_maps(skel->obj, shared);

	if (!err && multi)
		err = gp_uprobe_programs_multi(skel->obj);
	return err ? err : go_runtime_bpf__load(skel);
}


struct gp_go_probes *gp_go_probes_new(const struct gp_shared_maps *shared, uint32_t features)
{
	struct gp_go_probes *gp = calloc(1, sizeof(*gp));
	int err;

	if (!gp)
		return gp_err_null(-ENOMEM, "out of memory");
	gp->features = features;
	gp->place.links = &gp->links;
	/* uprobe_multi where the kernel has it (one link per function, removed in one go);
	 * older kernels get one perf-event link per site. */
	for (int multi = gp_kernel_has_uprobe_multi(); multi >= 0; multi--) {
		go_runtime_bpf__destroy(gp->skel);
		gp->skel = go_runtime_bpf__open();
		if (!gp->skel) {
			err = -errno;
			free(gp);
			return gp_err_null(err, "opening the embedded Go runtime BPF object failed");
		}
		gp->skel->rodata->track_channels = !!(features & GOPROF_FEATURE_CHANNELS);
		err = load_skel(gp->skel, shared, multi);
		gp->links.multi = multi && !err;
		if (!err || err == -EPERM)
			break;
	}
	if (err) {
		gp_go_probes_free(gp);
		return gp_fail_null(gp_bpf_load_failed(err, "the Go runtime probes"));
	}
	return gp;
}


void gp_go_probes_free(struct gp_go_probes *gp)
{
	if (!gp)
		return;
	gp_uprobe_links_free(&gp->links);
	free(gp->exes);
	gp_http_probes_free(gp->http);
	go_runtime_bpf__destroy(gp->skel);
	free(gp);
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

static const struct probe_spec block_probes[] = {
	PROBE("runtime.gopark", false, go_gopark),
	PROBE("runtime.casgstatus", false, go_block_wake),
};

static const struct probe_spec channel_probes[] = {
	PROBE("runtime.chansend", false, go_chansend),
	PROBE("runtime.chanrecv", false, go_chanrecv),
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

		gp->place.tag.set = (uint8_t)set;
		err = gp_uprobe_attach_function(&gp->place, bin, path, specs[i].function,
						specs[i].at_rets, prog, 0);
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

/*
 * The HTTP probes are optional per binary (not every Go program serves HTTP): on failure
 * the HTTP links are removed, the others stay, and the reason is kept for the host.
 */
static void attach_http(struct gp_go_probes *gp, struct goprof_binary *bin, const char *path,
			uint32_t *notes)
{
	size_t first_link = gp->links.nr;
	char saved[256];

	if (!gp->http || gp->detached[GP_SET_HTTP])
		return;
	gp_strlcpy(saved, goprof_last_error(), sizeof(saved));
	gp->place.tag.set = GP_SET_HTTP;
	if (gp_http_probes_attach_exe(gp->http, &gp->place, bin, path)) {
		gp_uprobe_links_truncate(&gp->links, first_link);
		gp_strlcpy(gp->http_note, goprof_last_error(), sizeof(gp->http_note));
		*notes |= GP_NOTE_HTTP_OFF;
	}
	gp_err(0, "%s", saved);
}

int gp_go_probes_enable_http(struct gp_go_probes *gp, struct bpf_map *http_active)
{
	struct gp_shared_maps shared = {
		.targets = gp->skel->maps.targets,
		.samples = gp->skel->maps.samples,
		.lost = gp->skel->maps.lost,
		.http_active = http_active,
	};

	gp->http = gp_http_probes_new(&shared, gp->links.multi);
	return gp->http ? 0 : (errno ? -errno : -ENOMEM);
}

const char *gp_go_probes_http_note(const struct gp_go_probes *gp)
{
	return gp->http_note;
}

int gp_go_probes_attach_exe(struct gp_go_probes *gp, const char *path, int pid, uint32_t *notes)
{
	GOPROF_OPTS(goprof_binary_opts, bin_opts, .allow_newer_go = 1);
	struct goprof_binary *bin;
	size_t first_link = gp->links.nr;
	struct stat st;
	int err;

	if (stat(path, &st))
		return gp_err(-errno, "%s: %s", path, strerror(errno));
	*notes = 0;
	gp->http_note[0] = '\0';
	pid = pid > 0 ? pid : -1;
	for (size_t i = 0; i < gp->nr_exes; i++)
		/* this process, or every process of the file, is probed already */
		if (gp->exes[i].dev == st.st_dev && gp->exes[i].ino == st.st_ino &&
		    (gp->exes[i].pid == pid || gp->exes[i].pid == -1)) {
			*notes = gp->exes[i].notes;
			gp_strlcpy(gp->http_note, gp->exes[i].http_note, sizeof(gp->http_note));
			return 0;
		}
	/* Callers attach only processes whose runtime layout was validated (target.c), so
	 * a release newer than the symbolizer knows is fine here. */
	bin = goprof_binary_open(path, &bin_opts);
	if (!bin)
		return -errno;
	err = 0;
	gp->place.pid = pid;
	gp->place.tag = (struct gp_uprobe_tag){ .exe = gp->next_exe_id };
	if (gp->features & GOPROF_FEATURE_GOROUTINES)
		err = attach_set(gp, bin, path, goroutine_probes, ARRAY_SIZE(goroutine_probes),
				 GP_SET_GOROUTINES);
	/* GC and scheduling latency (their precise modes): per process, gp_go_probes_attach_pid() */
	if (!err && gp->features & GOPROF_FEATURE_ALLOCS)
		err = attach_set(gp, bin, path, alloc_probes, ARRAY_SIZE(alloc_probes), GP_SET_ALLOCS);
	if (!err && gp->features & GOPROF_FEATURE_BLOCK)
		err = attach_set(gp, bin, path, block_probes, ARRAY_SIZE(block_probes), GP_SET_BLOCK);
	if (!err && gp->features & GOPROF_FEATURE_CHANNELS)
		err = attach_set(gp, bin, path, channel_probes, ARRAY_SIZE(channel_probes),
				 GP_SET_CHANNELS);
	if (!err && gp->features & GOPROF_FEATURE_HEAP) {
		if (memory_profiling_on(bin))
			err = attach_set(gp, bin, path, heap_probes, ARRAY_SIZE(heap_probes), GP_SET_HEAP);
		else
			*notes |= GP_NOTE_HEAP_OFF;
	}
	if (!err)
		attach_http(gp, bin, path, notes);
	goprof_binary_free(bin);
	if (!err)
		err = gp_grow((void **)&gp->exes, &gp->exes_cap, gp->nr_exes + 1, sizeof(*gp->exes));
	if (err) {
		/* All or nothing: half a set of probes would report wrong lifetimes. */
		gp_uprobe_links_truncate(&gp->links, first_link);
		return err;
	}
	gp->exes[gp->nr_exes] = (struct probed_exe){ st.st_dev, st.st_ino, pid, *notes,
						     gp->next_exe_id++, "" };
	gp_strlcpy(gp->exes[gp->nr_exes++].http_note, gp->http_note, sizeof(gp->http_note));
	return 0;
}

int gp_go_probes_attach_pid(struct gp_go_probes *gp, const char *path, int pid)
{
	GOPROF_OPTS(goprof_binary_opts, bin_opts, .allow_newer_go = 1);
	size_t first_link = gp->links.nr;
	struct goprof_binary *bin;
	int err = 0;

	if (!(gp->features & PER_PROCESS_FEATURES) || pid <= 0)
		return 0;
	for (size_t i = 0; i < gp->links.nr; i++)
		if (gp->links.tags[i].pid == pid)
			return 0; /* attached already */
	bin = goprof_binary_open(path, &bin_opts);
	if (!bin)
		return -errno;
	gp->place.pid = pid;
	gp->place.tag = (struct gp_uprobe_tag){ .exe = PID_LINK, .pid = pid };
	if (gp->features & GOPROF_FEATURE_GC)
		err = attach_set(gp, bin, path, gc_probes, ARRAY_SIZE(gc_probes), GP_SET_GC);
	if (!err && gp->features & GOPROF_FEATURE_SCHED)
		err = attach_set(gp, bin, path, sched_probes, ARRAY_SIZE(sched_probes), GP_SET_SCHED);
	goprof_binary_free(bin);
	if (err) /* all or nothing, as for an executable */
		gp_uprobe_links_truncate(&gp->links, first_link);
	return err;
}

static bool other_pid(const struct gp_uprobe_tag *l, uint32_t pid)
{
	return l->pid != (int32_t)pid;
}

void gp_go_probes_detach_pid(struct gp_go_probes *gp, int pid)
{
	bool any = false;

	if (!gp || pid <= 0)
		return;
	for (size_t i = 0; i < gp->links.nr && !any; i++)
		any = gp->links.tags[i].pid == pid;
	if (any)
		gp_uprobe_links_remove(&gp->links, other_pid, (uint32_t)pid);
}

void gp_go_probes_hits(struct gp_go_probes *gp, uint64_t *hits)
{
	gp_map_sum_percpu_all(gp->skel->maps.probe_hits, hits, GP_PROBE_NR);
}

unsigned gp_go_probes_count(const struct gp_go_probes *gp)
{
	return gp_uprobe_links_sites(&gp->links);
}

const char *gp_probe_set_name(enum gp_probe_set set)
{
	static const char *const names[GP_SET_NR] = {
		[GP_SET_GOROUTINES] = "runtime.newproc/newproc1/goexit1 (goroutines)",
		[GP_SET_GC] = "runtime.gcStart/gcMarkTermination/stop-start-the-world (GC)",
		[GP_SET_HEAP] = "runtime.mProf_Malloc/mProf_Free (heap)",
		[GP_SET_SCHED] = "runtime.casgstatus (scheduling latency)",
		[GP_SET_ALLOCS] = "runtime.mallocgc (every allocation)",
		[GP_SET_BLOCK] = "runtime.gopark/casgstatus (goroutine blocking)",
		[GP_SET_CHANNELS] = "runtime.chansend/chanrecv (channel statistics)",
		[GP_SET_HTTP] = "net/http serverHandler.ServeHTTP/(*Client).do (HTTP requests)",
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
	case GP_SET_BLOCK:
		return hits[GP_PROBE_GOPARK] + hits[GP_PROBE_BLOCK_WAKE];
	case GP_SET_CHANNELS:
		return hits[GP_PROBE_CHANOPS];
	case GP_SET_HTTP:
		return gp->http ? gp_http_probes_hits(gp->http) : 0;
	default:
		return 0;
	}
}


static bool other_set(const struct gp_uprobe_tag *l, uint32_t set)
{
	return l->set != set;
}

static bool other_exe(const struct gp_uprobe_tag *l, uint32_t exe)
{
	return l->exe != exe;
}

void gp_go_probes_detach_set(struct gp_go_probes *gp, enum gp_probe_set set)
{
	if (set == GP_SET_HTTP && gp->http)
		gp_http_probes_disable(gp->http);
	gp_uprobe_links_remove(&gp->links, other_set, set);
	gp->detached[set] = true;
}

int gp_go_probes_detach_exe(struct gp_go_probes *gp, dev_t dev, ino_t ino, int pid)
{
	pid = pid > 0 ? pid : -1;
	for (size_t i = 0; i < gp->nr_exes; i++) {
		if (gp->exes[i].dev != dev || gp->exes[i].ino != ino || gp->exes[i].pid != pid)
			continue;
		gp_uprobe_links_remove(&gp->links, other_exe, gp->exes[i].id);
		gp->exes[i] = gp->exes[--gp->nr_exes];
		return 0;
	}
	return -ENOENT;
}

bool gp_go_probes_set_active(const struct gp_go_probes *gp, enum gp_probe_set set)
{
	static const uint32_t feature_of[GP_SET_NR] = {
		[GP_SET_GOROUTINES] = GOPROF_FEATURE_GOROUTINES,
		[GP_SET_GC] = GOPROF_FEATURE_GC,
		[GP_SET_HEAP] = GOPROF_FEATURE_HEAP,
		[GP_SET_SCHED] = GOPROF_FEATURE_SCHED,
		[GP_SET_ALLOCS] = GOPROF_FEATURE_ALLOCS,
		[GP_SET_BLOCK] = GOPROF_FEATURE_BLOCK,
		[GP_SET_CHANNELS] = GOPROF_FEATURE_CHANNELS,
		[GP_SET_HTTP] = GOPROF_FEATURE_HTTP,
	};

	return (gp->features & feature_of[set]) && !gp->detached[set];
}

struct sched_walk {
	struct gp_goroutine_key key;
	struct gp_sched_stats st;
	gp_sched_fn fn;
	void *ctx;
};

static int visit_sched(void *walk)
{
	struct sched_walk *w = walk;

	return w->fn(&w->key, &w->st, w->ctx);
}

int gp_go_probes_foreach_sched(struct gp_go_probes *gp, gp_sched_fn fn, void *ctx)
{
	struct sched_walk w = { .fn = fn, .ctx = ctx };

	if (!gp) /* no probes: the memory mode of GOPROF_FEATURE_SCHED has no per-goroutine data */
		return 0;
	return gp_map_walk(gp->skel->maps.sched, &w.key, sizeof(w.key), &w.st, visit_sched, &w);
}

struct chan_walk {
	struct gp_chan_key key;
	struct gp_chan_stats st;
	gp_chan_fn fn;
	void *ctx;
};

static int visit_chan(void *walk)
{
	struct chan_walk *w = walk;

	return w->fn(&w->key, &w->st, w->ctx);
}

int gp_go_probes_foreach_channel(struct gp_go_probes *gp, gp_chan_fn fn, void *ctx)
{
	struct chan_walk *w = malloc(sizeof(*w)); /* the value is about 800 bytes */
	int ret;

	if (!w)
		return -ENOMEM;
	*w = (struct chan_walk){ .fn = fn, .ctx = ctx };
	ret = gp_map_walk(gp->skel->maps.channels, &w->key, sizeof(w->key), &w->st, visit_chan, w);
	free(w);
	return ret;
}

void gp_go_probes_delete_channel(struct gp_go_probes *gp, const struct gp_chan_key *key)
{
	bpf_map_delete_elem(bpf_map__fd(gp->skel->maps.channels), key);
}

void gp_go_probes_forget_parked(struct gp_go_probes *gp, uint32_t pid)
{
	struct gp_goroutine_key key, next, *stale = NULL;
	int fd = bpf_map__fd(gp->skel->maps.parked);
	size_t n = 0, cap = 0;
	bool first = true;

	while (bpf_map_get_next_key(fd, first ? NULL : &key, &next) == 0) {
		key = next;
		first = false;
		if (key.pid != pid)
			continue;
		if (n == cap && gp_grow((void **)&stale, &cap, n + 1, sizeof(*stale)))
			break; /* out of memory: the LRU evicts them in time */
		stale[n++] = key;
	}
	/* Deleted after the walk: deleting the current key would restart it. */
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &stale[i]);
	free(stale);
}
