// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Uprobes in Go executables, and their removal by tag (see uprobe_links.h). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "go/go_func_sites.h"
#include "core/uprobe_links.h"

#ifdef GP_UAPI_NO_UPROBE_MULTI
/* linux/bpf.h from before 6.6 (Debian 12's arm64 cross headers): its value since then. */
#define BPF_TRACE_UPROBE_MULTI ((enum bpf_attach_type)48)
#endif

/*
 * Whether the kernel has uprobe_multi links (6.6+). Loading a program of that attach
 * type does not tell: 5.18-6.5 accept it (the kprobe_multi check passes it by) and
 * refuse only the link, with EINVAL, at the first attach. As libbpf probes it: where
 * the link type exists, a link on "/" fails with EBADF.
 */
bool gp_kernel_has_uprobe_multi(void)
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

int gp_uprobe_programs_multi(struct bpf_object *obj)
{
	struct bpf_program *prog;
	int err = 0;

	bpf_object__for_each_program(prog, obj)
		if (!err)
			err = bpf_program__set_expected_attach_type(prog, BPF_TRACE_UPROBE_MULTI);
	return err;
}

static int keep_link(const struct gp_uprobe_place *at, struct bpf_link *link, uint32_t sites)
{
	struct gp_uprobe_links *l = at->links;
	int err = gp_grow((void **)&l->links, &l->links_cap, l->nr + 1, sizeof(*l->links));

	if (!err)
		err = gp_grow((void **)&l->tags, &l->tags_cap, l->nr + 1, sizeof(*l->tags));
	if (err) {
		bpf_link__destroy(link);
		return gp_err(err, "out of memory");
	}
	l->tags[l->nr] = at->tag;
	l->tags[l->nr].sites = sites;
	l->links[l->nr++] = link;
	return 0;
}

static int attach_at(const struct gp_uprobe_place *at, struct bpf_program *prog, const char *path,
		     uint64_t offset, uint64_t cookie)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = false, .bpf_cookie = cookie);
	struct bpf_link *link;

	/* A PID: the breakpoints go into that process only, other processes running the
	 * file never trap; -1 (an executable attached by path): every process running it,
	 * the program filters by target. */
	link = bpf_program__attach_uprobe_opts(prog, at->pid, path, offset, &opts);
	if (!link)
		return gp_err(-errno, "uprobe on %s at file offset 0x%llx: %s", path,
			      (unsigned long long)offset, strerror(errno));
	return keep_link(at, link, 1);
}

/* One uprobe_multi link for every site of a function. */
static int attach_multi(const struct gp_uprobe_place *at, struct bpf_program *prog, const char *path,
			const uint64_t *offsets, uint32_t n, uint64_t cookie)
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
	link = bpf_program__attach_uprobe_multi(prog, at->pid, path, NULL, &opts);
	if (!link)
		return gp_err(-errno, "uprobes on %s at %u file offsets from 0x%llx: %s", path, n,
			      (unsigned long long)offsets[0], strerror(errno));
	return keep_link(at, link, n);
}

int gp_uprobe_attach_function(const struct gp_uprobe_place *at, struct goprof_binary *bin,
			      const char *path, const char *fn, bool at_rets,
			      struct bpf_program *prog, uint64_t cookie)
{
	struct gp_func_sites sites;
	int err = gp_go_func_sites(bin, fn, at_rets, &sites);

	if (err)
		return err;
	if (at_rets && !sites.nr_rets)
		return gp_err(-ENOENT, "%s: %s has no RET instruction to probe", path, fn);
	if (at->links->multi)
		return at_rets ? attach_multi(at, prog, path, sites.ret_offsets, sites.nr_rets, cookie)
			       : attach_multi(at, prog, path, &sites.probe_offset, 1, cookie);
	if (!at_rets)
		return attach_at(at, prog, path, sites.probe_offset, cookie);
	for (uint32_t i = 0; i < sites.nr_rets && !err; i++)
		err = attach_at(at, prog, path, sites.ret_offsets[i], cookie);
	return err;
}

void gp_uprobe_links_remove(struct gp_uprobe_links *l,
			    bool (*keep)(const struct gp_uprobe_tag *, uint32_t), uint32_t arg)
{
	struct bpf_link **gone = calloc(l->nr + 1, sizeof(*gone));
	size_t kept = 0, nr_gone = 0;

	for (size_t i = 0; i < l->nr; i++) {
		if (!keep(&l->tags[i], arg)) {
			if (gone)
				gone[nr_gone++] = l->links[i];
			else
				bpf_link__destroy(l->links[i]); /* out of memory: one by one */
			continue;
		}
		l->links[kept] = l->links[i];
		l->tags[kept++] = l->tags[i];
	}
	l->nr = kept;
	destroy_links(gone, nr_gone);
	free(gone);
}

void gp_uprobe_links_truncate(struct gp_uprobe_links *l, size_t first)
{
	if (first >= l->nr)
		return;
	destroy_links(l->links + first, l->nr - first);
	l->nr = first;
}

unsigned gp_uprobe_links_sites(const struct gp_uprobe_links *l)
{
	unsigned sites = 0;

	for (size_t i = 0; i < l->nr; i++)
		sites += l->tags[i].sites;
	return sites;
}

void gp_uprobe_links_free(struct gp_uprobe_links *l)
{
	destroy_links(l->links, l->nr);
	free(l->links);
	free(l->tags);
	memset(l, 0, sizeof(*l));
}
