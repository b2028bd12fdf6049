// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Validation of a runtime layout against a live Go process (see go_validate.h). */
#include <dirent.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>

#include "go/go_data_refs.h"
#include "go/go_validate.h"
#include "core/remote_mem.h"
#include "sym/proc_maps.h"
#include "sym/symbolizer_internal.h"

/* Bounds on what is read from the target: its memory is untrusted input. */
#define MAX_ALLGLEN (1u << 24)   /* more goroutines than this: the length is garbage */
#define MAX_CHECKED 1024u        /* goroutines checked; larger lists are sampled evenly */
#define MAX_LIST_READ (1u << 17) /* entries of runtime.allgs read at once (1 MiB) */
#define MAX_TASKS 65536u
#define MAX_GOID (1ull << 48)    /* IDs count up from 1; 2^48 is never reached */
#define MAX_STACK (1ull << 31)   /* runtime.maxstacksize is 1 GB on 64-bit */
#define MIN_LIVE 2u              /* fewer live goroutines: the runtime has not started */
#define G_READ 512              /* at most this much of runtime.g is read */
#define G_SCAN_BIT 0x1000u       /* _Gscan, or'ed into atomicstatus while the GC scans */
#define G_MAX_STATUS 11u         /* _Gdeadextra (1.26); 0-9 before */
#define G_DEAD 6u
#define RETRY_DELAY_NS 20000000L /* 20 ms between the two reads of a moving target */

/*
 * Offsets the table does not carry, by the distances that held in every release
 * 1.19-1.27 (offsets.tsv): g.atomicstatus is 8 bytes before g.goid; m.procid is 120
 * bytes before m.curg (both moved by 8 when 1.25 dropped gobuf.ret). g.stack{lo, hi} is
 * at 0 in every release.
 */
#define STATUS_OFF(t) ((t)->g_goid - 8u)
#define PROCID_OFF(t) ((t)->m_curg - 120u)

#define allg_addrs gp_allg_addrs

/* The data addresses a Go function forms, in order, without repeats. */
static size_t data_refs(struct goprof_binary *bin, const char *fn, uint64_t *out, size_t max)
{
	uint64_t all[64];
	size_t n = 0, count = gp_go_data_refs(bin, fn, 4096, all, 64);

	for (size_t i = 0; i < count && n < max; i++) {
		bool seen = false;

		for (size_t j = 0; j < n; j++)
			seen |= out[j] == all[i];
		if (!seen)
			out[n++] = all[i];
	}
	return n;
}

/*
 * Where the goroutine list is: .symtab when the binary has it; else the operands of
 * runtime.forEachG (allglock, allgs, allgs+8: allgs is the x with x+8 also read) and
 * runtime.forEachGRace (allglen, allgptr: told apart later by their values).
 */
int gp_go_find_allgs(struct goprof_binary *bin, struct gp_allg_addrs *a)
{
	static const char *const names[] = { "runtime.allgs", "runtime.allglen", "runtime.allgptr" };
	uint64_t v[3] = { 0 };

	if (gp_elf_symbols(&bin->elf, names, v, 3) && (v[0] || (v[1] && v[2]))) {
		*a = (struct allg_addrs){ v[0], v[1], v[2], "symbols" };
		return 0;
	}
	return gp_go_find_allgs_from_code(bin, a);
}

int gp_go_find_allgs_from_code(struct goprof_binary *bin, struct gp_allg_addrs *a)
{
	uint64_t ops[8];
	size_t n;

	memset(a, 0, sizeof(*a));
	n = data_refs(bin, "runtime.forEachG", ops, 8);
	for (size_t i = 0; i < n && !a->allgs; i++)
		for (size_t j = 0; j < n; j++)
			if (ops[j] == ops[i] + 8)
				a->allgs = ops[i];
	if (data_refs(bin, "runtime.forEachGRace", ops, 8) >= 2) {
		a->allglen = ops[0];
		a->allgptr = ops[1];
	}
	a->how = "the code of runtime.forEachG/forEachGRace";
	return a->allgs || a->allglen ? 0 : -ENOENT;
}

/* Load bias of a PIE executable: where its file offset 0 is mapped minus its link address. */
int gp_go_load_bias(int pid, struct goprof_binary *bin, uint64_t *bias)
{
	struct gp_maps maps = { 0 };
	int err = -ENOENT;

	*bias = 0;
	if (bin->elf.type != ET_DYN)
		return 0;
	if (gp_maps_read(&maps, pid))
		return -ESRCH;
	for (size_t i = 0; i < maps.n; i++) {
		const struct gp_mapping *m = &maps.m[i];

		if (m->ino != bin->elf.ino || m->dev != bin->elf.dev || m->start < m->offset)
			continue;
		*bias = m->start - m->offset - bin->elf.first_load_vaddr;
		err = 0;
		break;
	}
	gp_maps_free(&maps);
	return err;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Thread IDs of pid, sorted (for bsearch). */
static size_t read_tasks(int pid, uint64_t *tids, size_t max)
{
	char path[64];
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while (n < max && (e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
			tids[n++] = strtoull(e->d_name, NULL, 10);
	closedir(d);
	qsort(tids, n, sizeof(*tids), cmp_u64);
	return n;
}

static uint64_t le64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t le32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* The goroutine list: pointer and length, both ways the runtime keeps it when possible. */
static int read_allgs(int pid, const struct allg_addrs *a, uint64_t bias, uint64_t *ptr,
		      uint64_t *len, char *why, size_t why_len)
{
	uint64_t s[2] = { 0 }, glen = 0, gptr = 0;
	bool have_slice = false, have_race = false;
	int err;

	err = gp_remote_read(pid, (a->allgs ? a->allgs : a->allglen) + bias, s, 8);
	if (err == -EPERM || err == -ESRCH) {
		snprintf(why, why_len, "cannot read the memory of process %d: %s%s", pid, strerror(-err),
			 err == -EPERM ? " (needs ptrace access: same user or CAP_SYS_PTRACE)" : "");
		return err;
	}
	if (a->allgs && gp_remote_read(pid, a->allgs + bias, s, sizeof(s)) == 0)
		have_slice = true;
	if (a->allglen && gp_remote_read_u64(pid, a->allglen + bias, &glen) == 0 &&
	    gp_remote_read_u64(pid, a->allgptr + bias, &gptr) == 0) {
		if (glen > gptr) { /* operands from forEachGRace come in either order */
			uint64_t tmp = glen;

			glen = gptr;
			gptr = tmp;
		}
		have_race = true;
	}
	if (!have_slice && !have_race) {
		snprintf(why, why_len, "cannot read runtime.allgs at 0x%llx (found by %s)",
			 (unsigned long long)(a->allgs ? a->allgs : a->allglen), a->how);
		return -EFAULT;
	}
	if (have_slice && have_race && s[1] != glen) {
		/* allgadd updates the slice, then allglen: a moment apart, never far apart */
		snprintf(why, why_len, "runtime.allgs has %llu goroutines but runtime.allglen says %llu",
			 (unsigned long long)s[1], (unsigned long long)glen);
		return -GOPROF_ERRNO_GO_VERSION;
	}
	*ptr = have_slice ? s[0] : gptr;
	*len = have_slice ? s[1] : glen;
	if (*len > MAX_ALLGLEN || (*len && (!*ptr || *ptr & 7))) {
		snprintf(why, why_len, "runtime.allgs is not a goroutine list (%llu entries at 0x%llx)",
			 (unsigned long long)*len, (unsigned long long)*ptr);
		return -GOPROF_ERRNO_GO_VERSION;
	}
	return 0;
}

struct tally {
	uint32_t live, dead, active, bad_status, bad_stack, bad_goid, dup_goid, bad_labels;
	uint32_t on_thread, curg_mismatch, bad_procid, unreadable;
};

/* Are the labels at p readable and shaped like this layout's labels? */
static bool labels_ok(int pid, const struct gp_target *t, uint64_t p)
{
	uint64_t w[4];

	if (gp_remote_read(pid, p, w, 3 * sizeof(w[0])))
		return false;
	if (t->labels_layout == GP_LABELS_SLICE) { /* *labelMap = {list []label{key, value}} */
		if (w[1] > w[2] || w[1] > 4096 || (w[1] && !w[0]))
			return false;
		/* the first label's key: a string of sane length */
		return !w[1] || (gp_remote_read(pid, w[0], w, 2 * sizeof(w[0])) == 0 &&
				 w[1] <= 65536 && (!w[1] || w[0]));
	}
	/* *labelMap holds a map: a pointer to its hmap {count@0, B@9, buckets@16} */
	if (!w[0])
		return true;
	if (gp_remote_read(pid, w[0], w, 3 * sizeof(w[0])))
		return false;
	if (w[0] > 65536 || ((const uint8_t *)w)[9] > 16)
		return false;
	return !w[0] || (w[2] && gp_remote_read(pid, w[2], &w[3], sizeof(w[3])) == 0);
}

static void check_g(int pid, const struct gp_target *t, uint64_t gp, const uint8_t *g,
		    const uint64_t *tids, size_t ntids, uint64_t *goids, struct tally *c)
{
	uint32_t status = le32(g + STATUS_OFF(t)), st = status & ~G_SCAN_BIT;
	uint64_t lo = le64(g), hi = le64(g + 8), goid = le64(g + t->g_goid);
	uint64_t m = le64(g + t->g_m), labels = le64(g + t->g_labels), mw[2];

	if (st > G_MAX_STATUS) {
		c->bad_status++;
		return;
	}
	if (st == G_DEAD) { /* on the free list: stale fields, nothing to check */
		c->dead++;
		return;
	}
	c->live++;
	c->active += st >= 1 && st <= 4; /* runnable, running, syscall, waiting */
	if (lo >= hi || hi - lo > MAX_STACK)
		c->bad_stack++;
	if (goid == 0 || goid >= MAX_GOID)
		c->bad_goid++;
	else
		goids[c->live - 1] = goid;
	if (labels && !labels_ok(pid, t, labels))
		c->bad_labels++;
	if (!m)
		return;
	if (gp_remote_read_u64(pid, m + t->m_curg, &mw[0]) ||
	    gp_remote_read_u64(pid, m + PROCID_OFF(t), &mw[1])) {
		c->curg_mismatch++;
		return;
	}
	if (mw[0] != gp) {
		c->curg_mismatch++; /* or it just switched goroutines: tolerated below */
		return;
	}
	c->on_thread++;
	if (!bsearch(&mw[1], tids, ntids, sizeof(*tids), cmp_u64))
		c->bad_procid++;
}

/* At most this many of n checks may fail: entries that change while we read them. */
static uint32_t tolerance(uint32_t n)
{
	return 1 + n / 20;
}

static int one_pass(int pid, const struct gp_target *t, const struct allg_addrs *a, uint64_t bias,
		    bool need_thread_evidence, struct gp_validate_stats *stats, char *why,
		    size_t why_len)
{
	uint64_t ptr, len, step, *gs = NULL, *goids = NULL, *tids = NULL;
	struct tally c = { 0 };
	uint32_t n, tol;
	uint8_t g[G_READ];
	size_t ntids, glen;
	int err;

	err = read_allgs(pid, a, bias, &ptr, &len, why, why_len);
	if (err)
		return err;
	stats->allglen = (uint32_t)len;
	n = (uint32_t)GP_MIN(len, (uint64_t)MAX_CHECKED);
	step = n ? len / n : 1;
	gs = calloc(n ? n : 1, sizeof(*gs));
	goids = calloc(n ? n : 1, sizeof(*goids));
	tids = calloc(MAX_TASKS, sizeof(*tids));
	if (!gs || !goids || !tids) {
		err = -ENOMEM;
		snprintf(why, why_len, "out of memory");
		goto out;
	}
	/* The whole list in one read unless it is huge; then every step-th entry alone. */
	if (len <= MAX_LIST_READ) {
		uint64_t *list = len > n ? calloc(len, sizeof(*list)) : gs;

		err = list ? gp_remote_read(pid, ptr, list, len * sizeof(*list)) : -ENOMEM;
		for (uint32_t i = 0; list != gs && !err && i < n; i++)
			gs[i] = list[i * step];
		if (list != gs)
			free(list);
	}
	for (uint32_t i = 0; len > MAX_LIST_READ && i < n && !err; i++)
		err = gp_remote_read_u64(pid, ptr + i * step * sizeof(*gs), &gs[i]);
	if (err && err != -ENOMEM) {
		err = -GOPROF_ERRNO_GO_VERSION;
		snprintf(why, why_len, "cannot read the %llu entries of runtime.allgs at 0x%llx",
			 (unsigned long long)len, (unsigned long long)ptr);
		goto out;
	}
	ntids = read_tasks(pid, tids, MAX_TASKS);
	/* Only up to the last field checked: a g may end near the end of a mapping. */
	glen = (size_t)GP_MAX(GP_MAX(t->g_labels, t->g_goid), t->g_m) + 8;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t gp = gs[i];

		if (!gp || gp & 7 || gp_remote_read(pid, gp, g, glen)) {
			c.unreadable++;
			continue;
		}
		check_g(pid, t, gp, g, tids, ntids, goids, &c);
	}
	qsort(goids, c.live, sizeof(*goids), cmp_u64);
	for (uint32_t i = 1; i < c.live; i++)
		c.dup_goid += goids[i] && goids[i] == goids[i - 1];
	stats->checked = c.live;
	stats->on_thread = c.on_thread;
	tol = tolerance(n);
	err = -GOPROF_ERRNO_GO_VERSION;
	if (c.unreadable > tol)
		snprintf(why, why_len, "%u of %u goroutine pointers in runtime.allgs are unreadable",
			 c.unreadable, n);
	else if (c.bad_status > tol)
		snprintf(why, why_len, "%u of %u goroutines have an impossible g.atomicstatus (at %u)",
			 c.bad_status, n, STATUS_OFF(t));
	else if (c.live < MIN_LIVE) {
		err = -EAGAIN;
		snprintf(why, why_len, "only %u live goroutines (the runtime has not started?)", c.live);
	} else if (!c.active)
		snprintf(why, why_len, "none of %u goroutines is runnable, running or waiting "
			 "(g.atomicstatus at %u)", c.live, STATUS_OFF(t));
	else if (c.bad_stack > tol)
		snprintf(why, why_len, "%u of %u goroutines have no valid g.stack", c.bad_stack, c.live);
	else if (c.bad_goid > tol)
		snprintf(why, why_len, "%u of %u goroutine IDs (g.goid at %u) are 0 or too large",
			 c.bad_goid, c.live, t->g_goid);
	else if (c.dup_goid > tol)
		snprintf(why, why_len, "%u of %u goroutine IDs (g.goid at %u) are repeated",
			 c.dup_goid, c.live, t->g_goid);
	else if (c.bad_labels > tol)
		snprintf(why, why_len, "%u of %u goroutines have unreadable labels (g.labels at %u)",
			 c.bad_labels, c.live, t->g_labels);
	else if (c.curg_mismatch > tol || c.curg_mismatch > c.on_thread)
		snprintf(why, why_len, "m.curg (at %u) of %u of %u goroutines' threads does not "
			 "point back to them", t->m_curg, c.curg_mismatch, c.curg_mismatch + c.on_thread);
	else if (c.bad_procid > tol)
		snprintf(why, why_len, "m.procid (at %u) of %u of %u threads is no thread of the process",
			 PROCID_OFF(t), c.bad_procid, c.on_thread);
	else if (need_thread_evidence && !c.on_thread) {
		err = -EAGAIN;
		snprintf(why, why_len, "no goroutine was on a thread to check m.curg against "
			 "(%u live goroutines, all parked)", c.live);
	} else
		err = 0;
out:
	free(gs);
	free(goids);
	free(tids);
	return err;
}

int gp_go_validate(int pid, struct goprof_binary *bin, const struct gp_target *t,
		   bool need_thread_evidence, struct gp_validate_stats *stats, char *why,
		   size_t why_len)
{
	struct timespec t0, t1, delay = { 0, RETRY_DELAY_NS };
	struct allg_addrs a;
	uint64_t bias;
	int err;

	memset(stats, 0, sizeof(*stats));
	why[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!goprof_binary_is_go(bin) || !t->g_goid || t->g_goid < 8 || t->m_curg < 120 ||
	    t->g_labels + 8u > G_READ || t->g_m + 8u > G_READ) {
		snprintf(why, why_len, "no runtime layout to validate");
		return -EINVAL;
	}
	if (gp_go_find_allgs(bin, &a)) {
		snprintf(why, why_len, "cannot find the goroutine list (no runtime.allgs symbol, "
			 "no runtime.forEachG to decode)");
		return -ENOENT;
	}
	if (gp_go_load_bias(pid, bin, &bias)) {
		snprintf(why, why_len, "cannot find where the executable is mapped in process %d", pid);
		return -ESRCH;
	}
	/* The target runs while we read: a failed pass is read once more before deciding. */
	for (int attempt = 0; attempt < 2; attempt++) {
		stats->attempts++;
		err = one_pass(pid, t, &a, bias, need_thread_evidence, stats, why, why_len);
		/* Too little to judge (-EAGAIN) is the caller's to retry, later. */
		if (err != -GOPROF_ERRNO_GO_VERSION)
			break;
		if (attempt == 0)
			nanosleep(&delay, NULL);
	}
	if (err && !why[0])
		snprintf(why, why_len, "cannot read process %d: %s", pid, strerror(-err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	stats->elapsed_ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000ull + (uint64_t)t1.tv_nsec -
			    (uint64_t)t0.tv_nsec;
	return err;
}
