/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The Go runtime probes of a session: loads lib/go/go_runtime.bpf.c (sharing the CPU
 * sampler's target map, ring buffer and loss counters) and attaches its uprobes once per
 * executable (device + inode); the BPF side keeps only attached processes' hits.
 */
#ifndef GOPROF_GO_PROBES_H
#define GOPROF_GO_PROBES_H

#include <sys/types.h>

#include "goprof_bpf.h"
#include "internal.h"

struct bpf_map;
struct bpf_program;
struct gp_go_probes;

/*
 * Loads the programs with the session's shared maps (targets, samples, lost).
 * features: the GOPROF_FEATURE_* whose probe sets to attach.
 */
struct gp_shared_maps;
GOPROF_HIDDEN struct gp_go_probes *gp_go_probes_new(const struct gp_shared_maps *shared,
						    uint32_t features);
GOPROF_HIDDEN void gp_go_probes_free(struct gp_go_probes *gp);

/*
 * Attaches the enabled probe sets to the executable at path: for process pid only (its
 * breakpoints go into that process: other processes running the same file never trap),
 * or with pid 0 for every process running it (an executable attached by path). Once per
 * (file, process). Returns 0 (also when already attached), or a negative error with a
 * message naming the missing runtime function or the failing attach.
 */
GOPROF_HIDDEN int gp_go_probes_attach_exe(struct gp_go_probes *gp, const char *path, int pid,
					  uint32_t *notes);

/*
 * The probe sets that are attached per process (the precise modes of GOPROF_FEATURE_GC
 * and GOPROF_FEATURE_SCHED): uprobes on the executable at path that only process pid
 * traps on; the file's other processes run untouched. Returns 0 (also when there is
 * nothing to attach or it is attached already) or a negative error with a message.
 */
GOPROF_HIDDEN int gp_go_probes_attach_pid(struct gp_go_probes *gp, const char *path, int pid);
/* Removes process pid's own probes (it exited). */
GOPROF_HIDDEN void gp_go_probes_detach_pid(struct gp_go_probes *gp, int pid);

/* *notes of gp_go_probes_attach_exe(): the heap probes were not installed because the Go
 * linker turned memory profiling off in this binary (nothing in it reads a heap profile:
 * runtime.MemProfile is unreachable, so MemProfileRate is 0 and the hooks never run). */
#define GP_NOTE_HEAP_OFF 0x1u
/* *notes: GOPROF_FEATURE_HTTP is on but the binary got no net/http probes; the reason is
 * in gp_go_probes_http_note(). The other probe sets are installed all the same. */
#define GP_NOTE_HTTP_OFF 0x2u

/* Probe sets, detached as a whole by the overhead budget. */
enum gp_probe_set {
	GP_SET_GOROUTINES = 0, /* runtime.newproc, newproc1 RETs, goexit1 */
	GP_SET_GC,             /* GC and stop-the-world */
	GP_SET_HEAP,           /* runtime.mProf_Malloc / mProf_Free */
	GP_SET_SCHED,          /* runtime.casgstatus */
	GP_SET_ALLOCS,         /* runtime.mallocgc (opt-in) */
	GP_SET_BLOCK,          /* runtime.gopark, runtime.casgstatus (goroutine blocking) */
	GP_SET_CHANNELS,       /* runtime.chansend, runtime.chanrecv */
	GP_SET_HTTP,           /* net/http server and client requests (lib/caps/http/http_probes.c) */
	GP_SET_NR,
};

/*
 * Adds the net/http probes (GOPROF_FEATURE_HTTP), sharing the CPU sampler's http_active
 * map. Returns 0 or a negative error with a message.
 */
GOPROF_HIDDEN int gp_go_probes_enable_http(struct gp_go_probes *gp, struct bpf_map *http_active);
/* Why the executable last passed to gp_go_probes_attach_exe() has no HTTP probes ("" if
 * it has them). */
GOPROF_HIDDEN const char *gp_go_probes_http_note(const struct gp_go_probes *gp);

/* Name of a probe set for messages ("runtime.newproc/newproc1/goexit1"). */
GOPROF_HIDDEN const char *gp_probe_set_name(enum gp_probe_set set);
/* Hits of a set's probes summed over CPUs. */
GOPROF_HIDDEN uint64_t gp_go_probes_set_hits(struct gp_go_probes *gp, enum gp_probe_set set);
/* Removes every uprobe of a set and installs none of it on executables attached later. */
GOPROF_HIDDEN void gp_go_probes_detach_set(struct gp_go_probes *gp, enum gp_probe_set set);
/*
 * Removes the probes of one executable (device and inode as stat() gives them) attached
 * for process pid (0: those attached for every process): its processes stop paying for them. A later gp_go_probes_attach_exe() installs them again.
 * Returns 0 or -ENOENT if it has none.
 */
GOPROF_HIDDEN int gp_go_probes_detach_exe(struct gp_go_probes *gp, dev_t dev, ino_t ino, int pid);
GOPROF_HIDDEN bool gp_go_probes_set_active(const struct gp_go_probes *gp, enum gp_probe_set set);

/* Calls fn for every goroutine's scheduling-latency record (GOPROF_FEATURE_SCHED). */
typedef int (*gp_sched_fn)(const struct gp_goroutine_key *key, const struct gp_sched_stats *st,
			   void *ctx);
GOPROF_HIDDEN int gp_go_probes_foreach_sched(struct gp_go_probes *gp, gp_sched_fn fn, void *ctx);

/* Calls fn for every channel record (GOPROF_FEATURE_CHANNELS / BLOCK); fn may delete
 * the record it is given with gp_go_probes_delete_channel(). */
typedef int (*gp_chan_fn)(const struct gp_chan_key *key, const struct gp_chan_stats *st, void *ctx);
GOPROF_HIDDEN int gp_go_probes_foreach_channel(struct gp_go_probes *gp, gp_chan_fn fn, void *ctx);
GOPROF_HIDDEN void gp_go_probes_delete_channel(struct gp_go_probes *gp, const struct gp_chan_key *key);

/*
 * Process pid exited: drops its goroutines still parked (leaked or waiting forever), so
 * that a new process reusing the PID cannot wake one of them. GOPROF_FEATURE_BLOCK.
 */
GOPROF_HIDDEN void gp_go_probes_forget_parked(struct gp_go_probes *gp, uint32_t pid);

/* Hits of each probe (GP_PROBE_*) summed over CPUs; hits[] has GP_PROBE_NR entries. */
GOPROF_HIDDEN void gp_go_probes_hits(struct gp_go_probes *gp, uint64_t *hits);

/* Number of uprobes installed (entries and RET sites over all executables). */
GOPROF_HIDDEN unsigned gp_go_probes_count(const struct gp_go_probes *gp);

#endif
