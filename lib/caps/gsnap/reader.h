/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Goroutine snapshots, part 2 of 3: locating and reading a Go process's goroutines from
 * outside (process_vm_readv, read-only, no stop, no probe): runtime.allgs found from the
 * symbol table or, in stripped binaries, from the code of runtime.forEachG/forEachGRace;
 * each g read in batches, decoded (g_decode.h), parked stacks walked by frame pointers,
 * and every goroutine read again afterwards: one that changed meanwhile (it ran, its
 * stack moved) is read once more, up to twice, and otherwise counted and left out.
 */
#ifndef GOPROF_GSNAP_READER_H
#define GOPROF_GSNAP_READER_H

#include "caps/gsnap/g_decode.h"
#include "internal.h"

struct gp_gsnap_proc;
struct gp_wait_reasons;

/* One goroutine of a snapshot. */
struct gp_gsnap_g {
	uint64_t goid, parent_goid, gopc, startpc, sp, labels_ptr;
	uint64_t addr;    /* of the g */
	uint64_t waiting; /* g.waiting: its sudog list */
	uint64_t chan;    /* the channel of a chan send/receive wait (its sudog's c), 0 if none */
	int64_t waitsince;
	uint32_t status;
	uint32_t stack_off, nr_stack; /* into gp_gsnap_buf.pcs */
	uint32_t labels_off, nr_labels; /* into gp_gsnap_buf.labels (key, value pairs) */
	uint64_t depth;   /* stack.hi - sched.sp: unchanged when the runtime moves the stack */
	uint64_t content; /* digest of the stack bytes read (see content_hash in reader.c) */
	uint8_t waitreason;
	uint8_t flags; /* GP_GSNAP_* */
};
#define GP_GSNAP_STACK_TRUNCATED 0x1 /* deeper than the frames kept or the bytes read */
#define GP_GSNAP_NO_STACK 0x2        /* running or in a system call: no saved registers */
#define GP_GSNAP_LABELS_TRUNCATED 0x4

/* The records of one process's snapshot; reused from one snapshot to the next. */
struct gp_gsnap_buf {
	struct gp_gsnap_g *gs;
	size_t nr, cap;
	uint64_t *pcs;
	size_t nr_pcs, pcs_cap;
	char **labels; /* key, value, key, value... (owned strings, shared by one labels map) */
	size_t nr_labels, labels_cap;
};
GOPROF_HIDDEN void gp_gsnap_buf_reset(struct gp_gsnap_buf *b);
GOPROF_HIDDEN void gp_gsnap_buf_free(struct gp_gsnap_buf *b);

struct gp_gsnap_read_stats {
	uint64_t allglen;     /* entries in runtime.allgs (dead goroutines included) */
	uint64_t read;        /* g structs read (every attempt) */
	uint64_t live;        /* goroutines in the snapshot */
	uint64_t retries;     /* goroutines read again because they changed while read */
	uint64_t changed;     /* ... still changing after the retries: left out, counted */
	uint64_t rejected;    /* g structs that decode to no goroutine (torn or corrupt) */
	uint64_t unreadable;  /* pointers in allgs whose g could not be read */
	uint64_t bytes;       /* bytes read from the target */
	uint64_t syscalls;    /* process_vm_readv calls */
};

/*
 * Opens the reader of Go process pid: its executable, release, layout and goroutine
 * list. validated: the process's runtime layout was checked (needed for a release newer
 * than the table). Returns NULL with why filled (no goroutine list found, unknown
 * release, unreadable process) and errno set.
 */
GOPROF_HIDDEN struct gp_gsnap_proc *gp_gsnap_proc_open(int pid, bool validated, char *why, size_t why_len);
GOPROF_HIDDEN void gp_gsnap_proc_close(struct gp_gsnap_proc *p);
GOPROF_HIDDEN int gp_gsnap_proc_pid(const struct gp_gsnap_proc *p);
GOPROF_HIDDEN const struct gp_wait_reasons *gp_gsnap_proc_wait_reasons(const struct gp_gsnap_proc *p);
GOPROF_HIDDEN const char *gp_gsnap_proc_version(const struct gp_gsnap_proc *p);

/* Reads len bytes at addr of the process (untrusted); 0 or a negative errno. */
GOPROF_HIDDEN int gp_gsnap_proc_read_mem(struct gp_gsnap_proc *p, uint64_t addr, void *buf, size_t len);

/* Frames kept per goroutine. */
#define GP_GSNAP_MAX_FRAMES 64

/*
 * Takes a snapshot into b (reset first). want_stacks/want_labels: walk parked stacks, read
 * pprof labels; known (may be NULL): stacks read consistently before need no second read. Returns 0; -ESRCH when the process exited (b is then empty);
 * -ESTALE when it exec'd another image meanwhile (empty; reopen); -EFAULT/-EPROTO when its
 * goroutine list cannot be read or makes no sense (why says what); -ENOMEM.
 */
/*
 * Did an earlier snapshot read exactly this stack (same depth, same content digest) of
 * goroutine goid? Then it was parked all along and its stack is read once only.
 */
typedef bool (*gp_gsnap_known_fn)(void *ctx, uint64_t goid, uint64_t depth, uint64_t content);

GOPROF_HIDDEN int gp_gsnap_proc_read(struct gp_gsnap_proc *p, struct gp_gsnap_buf *b,
				     bool want_stacks, bool want_labels, gp_gsnap_known_fn known,
				     void *known_ctx, struct gp_gsnap_read_stats *st, char *why,
				     size_t why_len);

#endif
