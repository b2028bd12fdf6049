/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The uprobes a session places in Go executables: attaching a program at a Go function's
 * entry or RETs (one uprobe_multi link per function where the kernel has it, else one
 * perf-event link per site), each link tagged with what it probes so that a probe set,
 * an executable or a process can be removed at once, quickly.
 */
#ifndef GOPROF_UPROBE_LINKS_H
#define GOPROF_UPROBE_LINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

struct bpf_link;
struct bpf_program;
struct goprof_binary;

/* What a link probes. */
struct gp_uprobe_tag {
	uint8_t set;    /* the owner's probe set (enum gp_probe_set) */
	uint32_t sites; /* uprobes (entry or RET sites) in the link; set by the attach */
	uint32_t exe;   /* the owner's id of the executable, or of the process's links */
	int32_t pid;    /* the process of a per-process link, else 0 */
};

struct gp_uprobe_links {
	bool multi; /* the programs were loaded for uprobe_multi links (kernel 6.6+) */
	struct bpf_link **links;
	struct gp_uprobe_tag *tags; /* of each link */
	size_t nr, links_cap, tags_cap;
};

/* Where the next links go: the links table, the process whose breakpoints they are (-1:
 * every process running the file) and their tag. */
struct gp_uprobe_place {
	struct gp_uprobe_links *links;
	int pid;
	struct gp_uprobe_tag tag;
};

/* True when this kernel can create uprobe_multi links (loading is not enough: 5.18-6.5
 * load the programs and refuse the link). */
GOPROF_HIDDEN bool gp_kernel_has_uprobe_multi(void);

/* Prepares every program of obj (opened, not loaded) for uprobe_multi links. */
struct bpf_object;
GOPROF_HIDDEN int gp_uprobe_programs_multi(struct bpf_object *obj);

/*
 * Attaches prog at the entry of Go function fn (after the stack check) or at each of its
 * RETs; cookie is what bpf_get_attach_cookie() returns. Returns 0 or a negative error
 * with a message.
 */
GOPROF_HIDDEN int gp_uprobe_attach_function(const struct gp_uprobe_place *at, struct goprof_binary *bin,
					    const char *path, const char *fn, bool at_rets,
					    struct bpf_program *prog, uint64_t cookie);

/* Removes the links after the first `first` (an attach that must be all or nothing). */
GOPROF_HIDDEN void gp_uprobe_links_truncate(struct gp_uprobe_links *l, size_t first);
/* Removes the links whose tag keep() rejects, all at once. */
GOPROF_HIDDEN void gp_uprobe_links_remove(struct gp_uprobe_links *l,
					  bool (*keep)(const struct gp_uprobe_tag *, uint32_t),
					  uint32_t arg);
/* Uprobes installed (sites over every link). */
GOPROF_HIDDEN unsigned gp_uprobe_links_sites(const struct gp_uprobe_links *l);
/* Removes every link and frees the table (not l itself). */
GOPROF_HIDDEN void gp_uprobe_links_free(struct gp_uprobe_links *l);

#endif /* GOPROF_UPROBE_LINKS_H */
