// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Loading and attaching the Go runtime uprobes (goroutine lifecycle). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "go_func_sites.h"
#include "goprof/error.h"
#include "go_probes.h"
#include "go_runtime.skel.h"
#include "goprof/session.h"
#include "goprof/symbolizer.h"
#include "goprof_bpf.h"
#include "http_probes.h"

struct probed_exe {
	dev_t dev;
	ino_t ino;
	int pid;        /* the one process probed, or -1: every process running the file */
	uint32_t notes; /* GP_NOTE_* */
	uint32_t id;    /* links of this executable carry it */
	char http_note[160]; /* GP_NOTE_HTTP_OFF: why */
};

/* What a link probes. */
struct link_info {
	uint8_t set;    /* enum gp_probe_set */
	uint32_t sites; /* uprobes (entry or RET sites) in the link */
	uint32_t exe;   /* probed_exe.id; PID_LINK for the links of one process */
	int32_t pid;    /* the process of a per-process link, else 0 */
};

#define PID_LINK UINT32_MAX
/* Sets attached per process, never per executable: their other processes never trap. */
#define PER_PROCESS_FEATURES (GOPROF_FEATURE_GC | GOPROF_FEATURE_SCHED)

struct gp_go_probes {
	struct go_runtime_bpf *skel;
	bool multi; /* programs loaded for uprobe_multi links (kernel 6.6+) */
	uint32_t features;
	bool detached[GP_SET_NR];
	struct bpf_link **links;
	struct link_info *link_info; /* of each link */
	size_t nr_links, links_cap, link_info_cap;
	struct probed_exe *exes;
	size_t nr_exes, exes_cap;
	uint32_t next_exe_id;        /* id of the executable being attached */
	int attach_pid;              /* process being attached (-1: the whole executable) */
	bool pid_link;               /* links made by gp_go_probes_attach_pid() (GC, sched) */
	struct gp_http_probes *http; /* GOPROF_FEATURE_HTTP */
	char http_note[160];         /* of the last executable attached */
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

static int load_skel(struct go_runtime_bpf *skel, struct bpf_map *targets, struct bpf_map *ringbuf,
		     struct bpf_map *lost, bool multi)
{
	struct bpf_program *prog;
	int err = bpf_map__reuse_fd(skel->maps.targets, bpf_map__fd(targets));

	if (!err)
		err = bpf_map__reuse_fd(skel->maps.samples, bpf_map__fd(ringbuf));
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.lost, bpf_map__fd(lost));
	bpf_object__for_each_program(prog, skel->obj)
		if (!err && multi)
			err = bpf_program__set_expected_attach_type(prog, BPF_TRACE_UPROBE_MULTI);
	return err ? err : go_runtime_bpf__load(skel);
}

/*
 * Whether the kernel has uprobe_multi links (6.6+). Loading a program of that attach
 * type does not tell: 5.18-6.5 accept it (the kprobe_multi check passes it by) and
 * refuse only the link, with EINVAL, at the first attach. As libbpf probes it: where
 * the link type exists, a link on "/" fails with EBADF.
 */
static bool kernel_has_uprobe_multi(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, popts, .expected_attach_type = BPF_TRACE_UPROBE_MULTI);
	unsigned long offset = 0;
	LIBBPF_OPTS(bpf_link_create_opts, lopts, .uprobe_multi.path = "/",
		    .uprobe_multi.offsets = &offset, .uprobe_multi.cnt = 1);
	int prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", insns, ARRAY_SIZE(insns), &popts);
	int link, err;

	if (prog < 0)
		return false;
	link = bpf_link_create(prog, -1, BPF_TRACE_UPROBE_MULTI, &lopts);
	err = errno;
	if (link >= 0)
		close(link);
	close(prog);
	return link >= 0 || err == EBADF;
}

struct gp_go_probes *gp_go_probes_new(struct bpf_map *targets, struct bpf_map *ringbuf,
				      struct bpf_map *lost, uint32_t features)
{
	struct gp_go_probes *gp = calloc(1, sizeof(*gp));
	int err;

	if (!gp)
		return gp_err_null(-ENOMEM, "out of memory");
	gp->features = features;
	gp->attach_pid = -1;
	/* uprobe_multi where the kernel has it (one link per function, removed in one go);
	 * older kernels get one perf-event link per site. */
	for (int multi = kernel_has_uprobe_multi(); multi >= 0; multi--) {
		go_runtime_bpf__destroy(gp->skel);
		gp->skel = go_runtime_bpf__open();
		if (!gp->skel) {
			err = -errno;
			free(gp);
			return gp_err_null(err, "opening the embedded Go runtime BPF object failed");
		}
		gp->skel->rodata->track_channels = !!(features & GOPROF_FEATURE_CHANNELS);
		err = load_skel(gp->skel, targets, ringbuf, lost, multi);
		gp->multi = multi && !err;
		if (!err || err == -EPERM)
			break;
	}
	if (err) {
		gp_go_probes_free(gp);
		return gp_err_null(err == -EPERM ? -EPERM : -GOPROF_ERRNO_VERIFIER,
				   "loading the Go runtime probes failed: %s; set GOPROF_DEBUG=1 for "
				   "the verifier log", strerror(-err));
	}
	return gp;
}

/*
 * Removing uprobes waits for RCU grace periods in the kernel, 100-250 ms each on a loaded
 * machine. Perf-event links (one per site) wait once per uprobe, one after the other:
 * 1-2 s for a session's dozen. A uprobe_multi link waits once for all its sites, and
 * links closed from several threads wait together: about 0.1-0.2 s measured here.
 */
#define DESTROY_THREADS 16

struct destroy_job {
	struct bpf_link **links;
	size_t n, first, stride;
};

static void *destroy_stride(void *arg)
{
	struct destroy_job *job = arg;

	for (size_t i = job->first; i < job->n; i += job->stride)
		bpf_link__destroy(job->links[i]);
	return NULL;
}

static void destroy_links(struct bpf_link **links, size_t n)
{
	struct destroy_job jobs[DESTROY_THREADS];
	pthread_t threads[DESTROY_THREADS];
	bool started[DESTROY_THREADS] = { false };
	size_t nt = GP_MIN(n, (size_t)DESTROY_THREADS);

	for (size_t t = 1; t < nt; t++) {
		jobs[t] = (struct destroy_job){ links, n, t, nt };
		started[t] = pthread_create(&threads[t], NULL, destroy_stride, &jobs[t]) == 0;
	}
	/* This thread takes stride 0, and the strides of threads that did not start. */
	for (size_t t = 0; t < nt; t++) {
		if (t && started[t])
			continue;
		jobs[t] = (struct destroy_job){ links, n, t, nt };
		destroy_stride(&jobs[t]);
	}
	for (size_t t = 1; t < nt; t++)
		if (started[t])
			pthread_join(threads[t], NULL);
}

void gp_go_probes_free(struct gp_go_probes *gp)
{
	if (!gp)
		return;
	destroy_links(gp->links, gp->nr_links);
	free(gp->links);
	free(gp->link_info);
	free(gp->exes);
	gp_http_probes_free(gp->http);
	go_runtime_bpf__destroy(gp->skel);
	free(gp);
}

static int keep_link(struct gp_go_probes *gp, struct bpf_link *link, enum gp_probe_set set,
		     uint32_t sites)
{
	int err = grow((void **)&gp->links, &gp->links_cap, gp->nr_links + 1, sizeof(*gp->links));

	if (!err)
		err = grow((void **)&gp->link_info, &gp->link_info_cap, gp->nr_links + 1,
			   sizeof(*gp->link_info));
	if (err) {
		bpf_link__destroy(link);
		return gp_err(err, "out of memory");
	}
	gp->link_info[gp->nr_links] = (struct link_info){
		(uint8_t)set, sites, gp->pid_link ? PID_LINK : gp->next_exe_id,
		gp->pid_link ? gp->attach_pid : 0 };
	gp->links[gp->nr_links++] = link;
	return 0;
}

static int attach_at(struct gp_go_probes *gp, struct bpf_program *prog, const char *path,
		     uint64_t offset, enum gp_probe_set set, uint64_t cookie)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = false, .bpf_cookie = cookie);
	struct bpf_link *link;

	/* A PID: the breakpoints go into that process only, other processes running the
	 * file never trap; -1 (an executable attached by path): every process running it,
	 * the program filters by target. */
	link = bpf_program__attach_uprobe_opts(prog, gp->attach_pid, path, offset, &opts);
	if (!link)
		return gp_err(-errno, "uprobe on %s at file offset 0x%llx: %s", path,
			      (unsigned long long)offset, strerror(errno));
	return keep_link(gp, link, set, 1);
}

/* One uprobe_multi link for every site of a function. */
static int attach_multi(struct gp_go_probes *gp, struct bpf_program *prog, const char *path,
			const uint64_t *offsets, uint32_t n, enum gp_probe_set set, uint64_t cookie)
{
	unsigned long offs[GP_MAX_RET_SITES];
	__u64 cookies[GP_MAX_RET_SITES];
	struct bpf_link *link;

	for (uint32_t i = 0; i < n; i++) {
		offs[i] = (unsigned long)offsets[i];
		cookies[i] = cookie;
	}
	LIBBPF_OPTS(bpf_uprobe_multi_opts, opts, .offsets = offs, .cookies = cookies, .cnt = n);
	/* per process or per executable, as in attach_at() */
	link = bpf_program__attach_uprobe_multi(prog, gp->attach_pid, path, NULL, &opts);
	if (!link)
		return gp_err(-errno, "uprobes on %s at %u file offsets from 0x%llx: %s", path, n,
			      (unsigned long long)offsets[0], strerror(errno));
	return keep_link(gp, link, set, n);
}

int gp_go_probes_attach_function(struct gp_go_probes *gp, struct goprof_binary *bin,
				 const char *path, const char *fn, bool at_rets,
				 struct bpf_program *prog, enum gp_probe_set set, uint64_t cookie)
{
	struct gp_func_sites sites;
	int err = gp_go_func_sites(bin, fn, at_rets, &sites);

	if (err)
		return err;
	if (at_rets && !sites.nr_rets)
		return gp_err(-ENOENT, "%s: %s has no RET instruction to probe", path, fn);
	if (gp->multi)
		return at_rets ? attach_multi(gp, prog, path, sites.ret_offsets, sites.nr_rets, set,
					      cookie)
			       : attach_multi(gp, prog, path, &sites.probe_offset, 1, set, cookie);
	if (!at_rets)
		return attach_at(gp, prog, path, sites.probe_offset, set, cookie);
	for (uint32_t i = 0; i < sites.nr_rets && !err; i++)
		err = attach_at(gp, prog, path, sites.ret_offsets[i], set, cookie);
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

		err = gp_go_probes_attach_function(gp, bin, path, specs[i].function,
						   specs[i].at_rets, prog, set, 0);
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
	size_t first_link = gp->nr_links;
	char saved[256];

	if (!gp->http || gp->detached[GP_SET_HTTP])
		return;
	gp_strlcpy(saved, goprof_last_error(), sizeof(saved));
	if (gp_http_probes_attach_exe(gp->http, gp, bin, path)) {
		destroy_links(gp->links + first_link, gp->nr_links - first_link);
		gp->nr_links = first_link;
		gp_strlcpy(gp->http_note, goprof_last_error(), sizeof(gp->http_note));
		*notes |= GP_NOTE_HTTP_OFF;
	}
	gp_err(0, "%s", saved);
}

int gp_go_probes_enable_http(struct gp_go_probes *gp, struct bpf_map *http_active)
{
	gp->http = gp_http_probes_new(gp->skel->maps.targets, gp->skel->maps.samples,
				      gp->skel->maps.lost, http_active, gp->multi);
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
	size_t first_link = gp->nr_links;
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
	gp->attach_pid = pid;
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
	gp->attach_pid = -1;
	goprof_binary_free(bin);
	if (!err)
		err = grow((void **)&gp->exes, &gp->exes_cap, gp->nr_exes + 1, sizeof(*gp->exes));
	if (err) {
		/* All or nothing: half a set of probes would report wrong lifetimes. */
		destroy_links(gp->links + first_link, gp->nr_links - first_link);
		gp->nr_links = first_link;
		return err;
	}
	gp->exes[gp->nr_exes] = (struct probed_exe){ st.st_dev, st.st_ino, pid, *notes,
						     gp->next_exe_id++, "" };
	gp_strlcpy(gp->exes[gp->nr_exes++].http_note, gp->http_note, sizeof(gp->http_note));
	return 0;
}

static void remove_links(struct gp_go_probes *gp, bool (*keep)(const struct link_info *, uint32_t),
			 uint32_t arg);

int gp_go_probes_attach_pid(struct gp_go_probes *gp, const char *path, int pid)
{
	GOPROF_OPTS(goprof_binary_opts, bin_opts, .allow_newer_go = 1);
	size_t first_link = gp->nr_links;
	struct goprof_binary *bin;
	int err = 0;

	if (!(gp->features & PER_PROCESS_FEATURES) || pid <= 0)
		return 0;
	for (size_t i = 0; i < gp->nr_links; i++)
		if (gp->link_info[i].pid == pid)
			return 0; /* attached already */
	bin = goprof_binary_open(path, &bin_opts);
	if (!bin)
		return -errno;
	gp->attach_pid = pid;
	gp->pid_link = true;
	if (gp->features & GOPROF_FEATURE_GC)
		err = attach_set(gp, bin, path, gc_probes, ARRAY_SIZE(gc_probes), GP_SET_GC);
	if (!err && gp->features & GOPROF_FEATURE_SCHED)
		err = attach_set(gp, bin, path, sched_probes, ARRAY_SIZE(sched_probes), GP_SET_SCHED);
	gp->attach_pid = -1;
	gp->pid_link = false;
	goprof_binary_free(bin);
	if (err) { /* all or nothing, as for an executable */
		destroy_links(gp->links + first_link, gp->nr_links - first_link);
		gp->nr_links = first_link;
	}
	return err;
}

static bool other_pid(const struct link_info *l, uint32_t pid)
{
	return l->pid != (int32_t)pid;
}

void gp_go_probes_detach_pid(struct gp_go_probes *gp, int pid)
{
	bool any = false;

	if (!gp || pid <= 0)
		return;
	for (size_t i = 0; i < gp->nr_links && !any; i++)
		any = gp->link_info[i].pid == pid;
	if (any)
		remove_links(gp, other_pid, (uint32_t)pid);
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
	unsigned sites = 0;

	for (size_t i = 0; i < gp->nr_links; i++)
		sites += gp->link_info[i].sites;
	return sites;
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

/* Removes the links that keep() selects, all at once. */
static void remove_links(struct gp_go_probes *gp, bool (*keep)(const struct link_info *, uint32_t),
			 uint32_t arg)
{
	struct bpf_link **gone = calloc(gp->nr_links + 1, sizeof(*gone));
	size_t kept = 0, nr_gone = 0;

	for (size_t i = 0; i < gp->nr_links; i++) {
		if (!keep(&gp->link_info[i], arg)) {
			if (gone)
				gone[nr_gone++] = gp->links[i];
			else
				bpf_link__destroy(gp->links[i]); /* out of memory: one by one */
			continue;
		}
		gp->links[kept] = gp->links[i];
		gp->link_info[kept++] = gp->link_info[i];
	}
	gp->nr_links = kept;
	destroy_links(gone, nr_gone);
	free(gone);
}

static bool other_set(const struct link_info *l, uint32_t set)
{
	return l->set != set;
}

static bool other_exe(const struct link_info *l, uint32_t exe)
{
	return l->exe != exe;
}

void gp_go_probes_detach_set(struct gp_go_probes *gp, enum gp_probe_set set)
{
	if (set == GP_SET_HTTP && gp->http)
		gp_http_probes_disable(gp->http);
	remove_links(gp, other_set, set);
	gp->detached[set] = true;
}

int gp_go_probes_detach_exe(struct gp_go_probes *gp, dev_t dev, ino_t ino, int pid)
{
	pid = pid > 0 ? pid : -1;
	for (size_t i = 0; i < gp->nr_exes; i++) {
		if (gp->exes[i].dev != dev || gp->exes[i].ino != ino || gp->exes[i].pid != pid)
			continue;
		remove_links(gp, other_exe, gp->exes[i].id);
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

/*
 * Walks a hash map: for each entry still there, its key and value are copied into key
 * and val (key_sz bytes of key, at most 16) and visit(walk) is called; a non-zero return
 * stops the walk and is returned.
 */
#define WALK_BATCH 64 /* entries per bpf_map_lookup_batch() */

/*
 * walk_map() in batches: one bpf() call per WALK_BATCH entries instead of two per entry
 * (the scheduling table of the demo, 1,440 entries, took 2,880 calls a walk). *unsupported
 * is set when the kernel has no batch lookup for the map: the caller walks key by key.
 */
static int walk_map_batched(struct bpf_map *map, void *key, size_t key_sz, void *val,
			    int (*visit)(void *walk), void *walk, bool *unsupported)
{
	size_t val_sz = bpf_map__value_size(map);
	char *keys = malloc(WALK_BATCH * key_sz), *vals = malloc(WALK_BATCH * val_sz);
	__u64 in = 0, out = 0;
	bool first = true;
	int ret = 0;

	while (keys && vals && !ret) {
		__u32 count = WALK_BATCH;
		int err = bpf_map_lookup_batch(bpf_map__fd(map), first ? NULL : &in, &out, keys, vals,
					       &count, NULL);
		int e = errno;

		if (err && e != ENOENT) {
			*unsupported = first; /* else the table changed under us: done */
			break;
		}
		for (__u32 i = 0; i < count && !ret; i++) {
			memcpy(key, keys + i * key_sz, key_sz);
			memcpy(val, vals + i * val_sz, val_sz);
			ret = visit(walk);
		}
		if (err)
			break; /* ENOENT: the end */
		in = out;
		first = false;
	}
	if (!keys || !vals)
		*unsupported = true;
	free(keys);
	free(vals);
	return ret;
}

static int walk_map(struct bpf_map *map, void *key, size_t key_sz, void *val,
		    int (*visit)(void *walk), void *walk)
{
	char cur[16], next[16];
	int fd = bpf_map__fd(map), ret;
	bool first = true, unsupported = false;

	if (key_sz > sizeof(cur))
		return -EINVAL;
	ret = walk_map_batched(map, key, key_sz, val, visit, walk, &unsupported);
	if (!unsupported)
		return ret;
	while (bpf_map_get_next_key(fd, first ? NULL : cur, next) == 0) {
		memcpy(cur, next, key_sz);
		first = false;
		memcpy(key, cur, key_sz);
		if (bpf_map_lookup_elem(fd, key, val))
			continue; /* deleted meanwhile */
		ret = visit(walk);
		if (ret)
			return ret;
	}
	return 0;
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
	return walk_map(gp->skel->maps.sched, &w.key, sizeof(w.key), &w.st, visit_sched, &w);
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
	ret = walk_map(gp->skel->maps.channels, &w->key, sizeof(w->key), &w->st, visit_chan, w);
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
		if (n == cap && grow((void **)&stale, &cap, n + 1, sizeof(*stale)))
			break; /* out of memory: the LRU evicts them in time */
		stale[n++] = key;
	}
	/* Deleted after the walk: deleting the current key would restart it. */
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &stale[i]);
	free(stale);
}
