// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Reading a Go process's goroutines from outside (see reader.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "go/go_version.h"
#include "go/go_offsets.h"
#include "goprof/error.h"
#include "go/go_validate.h"
#include "profile/idmap.h"
#include "goprof/symbolizer.h"
#include "caps/gsnap/reader.h"
#include "core/remote_mem.h"
#include "sym/symbolizer_internal.h"
#include "go/wait_reasons.h"

#define MAX_ALLGLEN (1u << 24)     /* more goroutines than this: the length is garbage */
#define LIST_CHUNK 65536u          /* allgs entries read per call (512 KiB) */
#define BATCH 1024u                /* goroutines read together */
#define IOV_BATCH 256u             /* ranges per process_vm_readv */
#define MERGE_GAP 4096u            /* ranges closer than this are read as one */
#define SPAN_MAX (1u << 20)        /* ... up to this many bytes */
#define STACK_READ_MAX 16384u      /* bytes of a parked stack read, from its saved SP */
#define CHECK_LEN 192u             /* bytes of g read again to see if it changed */
#define MAX_RETRIES 2
#define MAX_LABELS 64
#define LABEL_BYTES 256            /* longest label key or value kept */
#define MAX_LABEL_CACHE 4096

struct gp_gsnap_proc {
	int pid;
	struct gp_g_layout lay;
	struct gp_allg_addrs a;
	uint64_t bias;
	const struct gp_wait_reasons *wr;
	char version[32];
	dev_t dev;
	ino_t ino;
	/* scratch, kept between snapshots */
	uint64_t *list;
	size_t list_cap;
	uint8_t *gbytes;
	size_t gbytes_cap;
	uint8_t *stk;
	size_t stk_cap;
	uint8_t *stk_alone; /* 2 x STACK_READ_MAX */
	uint8_t *span;      /* merged reads */
	size_t span_cap;
	struct gp_gsnap_read_stats *st;
};

void gp_gsnap_buf_reset(struct gp_gsnap_buf *b)
{
	for (size_t i = 0; i < b->nr_labels; i++)
		free(b->labels[i]);
	b->nr = b->nr_pcs = b->nr_labels = 0;
}

void gp_gsnap_buf_free(struct gp_gsnap_buf *b)
{
	gp_gsnap_buf_reset(b);
	free(b->gs);
	free(b->pcs);
	free(b->labels);
	memset(b, 0, sizeof(*b));
}

int gp_gsnap_proc_pid(const struct gp_gsnap_proc *p)
{
	return p->pid;
}

const struct gp_wait_reasons *gp_gsnap_proc_wait_reasons(const struct gp_gsnap_proc *p)
{
	return p->wr;
}

const char *gp_gsnap_proc_version(const struct gp_gsnap_proc *p)
{
	return p->version;
}

struct gp_gsnap_proc *gp_gsnap_proc_open(int pid, bool validated, char *why, size_t why_len)
{
	GOPROF_OPTS(goprof_binary_opts, opts, .allow_newer_go = 1);
	char exe[64], saved[256], note[160] = "";
	struct gp_gsnap_proc *p = calloc(1, sizeof(*p));
	struct goprof_binary *bin = NULL;
	const char *version;
	struct stat st;
	bool newer;
	int minor, err = -ENOENT;

	why[0] = '\0';
	gp_strlcpy(saved, goprof_last_error(), sizeof(saved));
	if (!p) {
		snprintf(why, why_len, "out of memory");
		err = -ENOMEM;
		goto fail;
	}
	p->pid = pid;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	if (stat(exe, &st)) {
		err = -errno;
		snprintf(why, why_len, "cannot read %s: %s", exe, strerror(errno));
		goto fail;
	}
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	bin = goprof_binary_open(exe, &opts);
	if (!bin || !goprof_binary_is_go(bin)) {
		snprintf(why, why_len, "%s", bin ? "not a Go program" : goprof_last_error());
		err = bin ? -ENOEXEC : -errno;
		goto fail;
	}
	version = gp_go_release_check(bin, note, sizeof(note));
	if (!version || gp_go_minor_version(version, &minor) ||
	    gp_g_layout_of(minor, &p->lay, &newer)) {
		snprintf(why, why_len, "no goroutine snapshots: %s", note[0] ? note :
			 "the Go release of this binary is not known (known: 1.19-1.27)");
		err = -GOPROF_ERRNO_GO_VERSION;
		goto fail;
	}
	if (newer && !validated) {
		snprintf(why, why_len, "no goroutine snapshots: %s is newer than Go 1.%d and its "
			 "runtime layout did not validate against the process", version, p->lay.minor);
		err = -GOPROF_ERRNO_GO_VERSION;
		goto fail;
	}
	gp_strlcpy(p->version, version, sizeof(p->version));
	p->wr = gp_wait_reasons_find(version);
	if (gp_go_find_allgs(bin, &p->a)) {
		snprintf(why, why_len, "no goroutine snapshots: cannot locate the goroutine list "
			 "(no runtime.allgs symbol, and runtime.forEachG/forEachGRace could not be "
			 "decoded)");
		err = -ENOENT;
		goto fail;
	}
	if (gp_go_load_bias(pid, bin, &p->bias)) {
		snprintf(why, why_len, "cannot find where the executable is mapped in process %d", pid);
		err = -ESRCH;
		goto fail;
	}
	goprof_binary_free(bin);
	gp_err(0, "%s", saved);
	return p;
fail:
	goprof_binary_free(bin);
	free(p);
	gp_err(0, "%s", saved);
	errno = -err;
	return NULL;
}

void gp_gsnap_proc_close(struct gp_gsnap_proc *p)
{
	if (!p)
		return;
	free(p->list);
	free(p->gbytes);
	free(p->stk);
	free(p->stk_alone);
	free(p->span);
	free(p);
}

int gp_gsnap_proc_read_mem(struct gp_gsnap_proc *p, uint64_t addr, void *buf, size_t len)
{
	return gp_remote_read(p->pid, addr, buf, len);
}

/* process_vm_readv of one range; counts it. */
static int rd(struct gp_gsnap_proc *p, uint64_t addr, void *buf, size_t len)
{
	int err = gp_remote_read(p->pid, addr, buf, len);

	p->st->syscalls++;
	if (!err)
		p->st->bytes += len;
	return err;
}

/*
 * Reads n ranges in as few calls as possible (up to IOV_BATCH iovecs each): range i goes
 * to dst + off[i]. ok[i] says whether it was read whole. Returns 0, or -ESRCH/-EPERM when
 * the process cannot be read at all.
 */
static int read_iov(struct gp_gsnap_proc *p, const uint64_t *addr, const size_t *len,
		    const size_t *off, size_t n, uint8_t *dst, bool *ok)
{
	struct iovec loc[IOV_BATCH], rem[IOV_BATCH];
	size_t i = 0;

	while (i < n) {
		size_t k = 0, total = 0, done;
		ssize_t r;

		for (; i + k < n && k < IOV_BATCH; k++) {
			loc[k] = (struct iovec){ dst + off[i + k], len[i + k] };
			rem[k] = (struct iovec){ (void *)(uintptr_t)addr[i + k], len[i + k] };
			total += len[i + k];
		}
		r = process_vm_readv(p->pid, loc, k, rem, k, 0);
		p->st->syscalls++;
		if (r < 0 && (errno == ESRCH || errno == EPERM))
			return -errno;
		if (r < 0)
			r = 0; /* EFAULT: the first range is unreadable */
		p->st->bytes += (uint64_t)r;
		/* Ranges read whole, then the one the read stopped in (unreadable). */
		for (done = 0; done < k && (size_t)r >= len[i + done]; done++) {
			r -= (ssize_t)len[i + done];
			ok[i + done] = true;
		}
		if (done < k)
			ok[i + done++] = false;
		i += done;
		(void)total;
	}
	return 0;
}

struct by_addr {
	uint64_t addr;
	uint32_t i;
};

static int cmp_addr(const void *a, const void *b)
{
	const struct by_addr *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * read_iov() with neighbouring ranges merged: g structs come from the same spans of the
 * heap and stacks from the same stack spans, so a few large reads replace many small ones
 * (the kernel's cost is per range and per page, the copy is cheap). A merged read that
 * fails (a hole between its ranges) is done range by range.
 */
static int read_ranges(struct gp_gsnap_proc *p, const uint64_t *addr, const size_t *len,
		       const size_t *off, size_t n, uint8_t *dst, bool *ok)
{
	struct by_addr *o;
	uint64_t *sa;
	size_t *sl, *so, *first, ns = 0, total = 0, nfail = 0;
	bool *sok;
	int err = -ENOMEM;

	if (n < 2)
		return read_iov(p, addr, len, off, n, dst, ok);
	o = malloc(n * sizeof(*o));
	sa = malloc(n * sizeof(*sa));
	sl = malloc(n * sizeof(*sl));
	so = malloc(n * sizeof(*so));
	first = malloc(n * sizeof(*first));
	sok = malloc(n * sizeof(*sok));
	if (!o || !sa || !sl || !so || !first || !sok)
		goto out;
	for (size_t i = 0; i < n; i++)
		o[i] = (struct by_addr){ addr[i], (uint32_t)i };
	qsort(o, n, sizeof(*o), cmp_addr);
	for (size_t k = 0; k < n; k++) {
		uint64_t a = o[k].addr, e = a + len[o[k].i];

		if (ns && a >= sa[ns - 1] && a <= sa[ns - 1] + sl[ns - 1] + MERGE_GAP &&
		    GP_MAX(e, sa[ns - 1] + sl[ns - 1]) - sa[ns - 1] <= SPAN_MAX) {
			sl[ns - 1] = (size_t)(GP_MAX(e, sa[ns - 1] + sl[ns - 1]) - sa[ns - 1]);
			continue;
		}
		sa[ns] = a;
		sl[ns] = (size_t)(e - a);
		first[ns] = k;
		ns++;
	}
	for (size_t j = 0; j < ns; j++) {
		so[j] = total;
		total += sl[j];
	}
	if (gp_grow((void **)&p->span, &p->span_cap, total + 1, 1))
		goto out;
	err = read_iov(p, sa, sl, so, ns, p->span, sok);
	if (err)
		goto out;
	for (size_t j = 0; j < ns; j++) {
		size_t end = j + 1 < ns ? first[j + 1] : n;

		for (size_t k = first[j]; k < end; k++) {
			size_t i = o[k].i;

			ok[i] = sok[j];
			if (sok[j])
				memcpy(dst + off[i], p->span + so[j] + (addr[i] - sa[j]), len[i]);
			else
				o[nfail++].i = (uint32_t)i; /* reuses o[]: k >= nfail */
		}
	}
	/* the ranges of failed spans, one by one */
	for (size_t k = 0; k < nfail && !err; k++) {
		size_t i = o[k].i;

		err = read_iov(p, &addr[i], &len[i], &off[i], 1, dst, &ok[i]);
	}
out:
	free(o);
	free(sa);
	free(sl);
	free(so);
	free(first);
	free(sok);
	return err;
}

/* The goroutine list: pointer and length (runtime.allgs, or allglen/allgptr). */
static int read_list_head(struct gp_gsnap_proc *p, uint64_t *ptr, uint64_t *len, char *why,
			  size_t why_len)
{
	uint64_t s[2] = { 0 }, w[2] = { 0 };
	int err;

	if (p->a.allgs) {
		err = rd(p, p->a.allgs + p->bias, s, sizeof(s));
	} else {
		err = rd(p, p->a.allglen + p->bias, &w[0], 8);
		if (!err)
			err = rd(p, p->a.allgptr + p->bias, &w[1], 8);
		/* operands decoded from forEachGRace come in either order: the length is the
		 * smaller word */
		s[0] = GP_MAX(w[0], w[1]);
		s[1] = GP_MIN(w[0], w[1]);
	}
	if (err == -ESRCH || err == -EPERM)
		return err;
	if (err) {
		snprintf(why, why_len, "cannot read runtime.allgs at 0x%llx (found by %s)",
			 (unsigned long long)(p->a.allgs ? p->a.allgs : p->a.allglen), p->a.how);
		return -EFAULT;
	}
	if (s[1] > MAX_ALLGLEN || (s[1] && (!s[0] || s[0] & 7 || s[0] >= (1ull << 47)))) {
		snprintf(why, why_len, "runtime.allgs is not a goroutine list (%llu entries at 0x%llx)",
			 (unsigned long long)s[1], (unsigned long long)s[0]);
		return -EPROTO;
	}
	*ptr = s[0];
	*len = s[1];
	return 0;
}

/* A goroutine being read: where its g is, what was decoded. */
struct pending {
	uint64_t gp;
	struct gp_g_rec rec;
	size_t slen, soff; /* its stack: bytes read, where in the stack buffer */
	uint64_t content;  /* content_hash() of the first read */
	bool ok, sok, known;
};

static int add_labels_from(struct gp_gsnap_proc *p, struct gp_gsnap_buf *b, const uint64_t *kv,
			   uint32_t n, uint32_t *added)
{
	/* kv: n pairs of (key ptr, key len, value ptr, value len) */
	char tmp[LABEL_BYTES + 1];
	int err;

	for (uint32_t i = 0; i < n; i++) {
		for (int j = 0; j < 2; j++) {
			uint64_t sp = kv[4 * i + 2 * j], sl = kv[4 * i + 2 * j + 1];
			size_t l = (size_t)GP_MIN(sl, (uint64_t)LABEL_BYTES);

			if (sl > (1u << 20) || (sl && !sp))
				return -EPROTO;
			if (l && rd(p, sp, tmp, l))
				return -EPROTO;
			tmp[l] = '\0';
			err = gp_grow((void **)&b->labels, &b->labels_cap, b->nr_labels + 1, sizeof(char *));
			if (err)
				return err;
			b->labels[b->nr_labels] = strdup(tmp);
			if (!b->labels[b->nr_labels])
				return -ENOMEM;
			b->nr_labels++;
		}
		(*added)++;
	}
	return 0;
}

/* Bucket of a map[string]string (Go <= 1.23, non-swiss): tophash[8], keys, elems, overflow. */
#define HMAP_BUCKET 272
#define MIN_TOPHASH 5

static int labels_hmap_bucket(struct gp_gsnap_proc *p, struct gp_gsnap_buf *b, uint64_t bucket,
			      uint32_t *added)
{
	uint8_t bk[HMAP_BUCKET];

	for (int depth = 0; bucket && depth < 8; depth++) {
		uint64_t kv[4];
		int err;

		if (rd(p, bucket, bk, sizeof(bk)))
			return -EPROTO;
		for (int i = 0; i < 8; i++) {
			if (bk[i] < MIN_TOPHASH)
				continue;
			if (*added >= MAX_LABELS)
				return 1;
			memcpy(&kv[0], bk + 8 + 16 * i, 16);
			memcpy(&kv[2], bk + 136 + 16 * i, 16);
			err = add_labels_from(p, b, kv, 1, added);
			if (err)
				return err;
		}
		memcpy(&bucket, bk + 264, 8);
	}
	return 0;
}

/* Reads the pprof labels at g.labels into b; returns 0 (truncated: 1) or a negative errno. */
static int read_labels(struct gp_gsnap_proc *p, struct gp_gsnap_buf *b, uint64_t ptr, uint32_t *added)
{
	uint64_t w[4];
	int err = 0;

	*added = 0;
	if (rd(p, ptr, w, 3 * sizeof(w[0])))
		return -EPROTO;
	if (p->lay.labels_slice) { /* {list []label{key, value string}} */
		uint64_t kv[4 * MAX_LABELS];
		uint32_t n = (uint32_t)GP_MIN(w[1], (uint64_t)MAX_LABELS);

		if (w[1] > w[2] || w[1] > 65536 || (w[1] && !w[0]))
			return -EPROTO;
		if (n && rd(p, w[0], kv, n * 32))
			return -EPROTO;
		err = add_labels_from(p, b, kv, n, added);
		return err ? err : w[1] > n;
	}
	/* *labelMap is a map: a pointer to its hmap {count, flags, B, ..., buckets, oldbuckets} */
	if (!w[0])
		return 0;
	{
		uint8_t h[32];
		uint64_t count, buckets, old;
		uint8_t B;

		if (rd(p, w[0], h, sizeof(h)))
			return -EPROTO;
		memcpy(&count, h, 8);
		B = h[9];
		memcpy(&buckets, h + 16, 8);
		memcpy(&old, h + 24, 8);
		if (count > 65536 || B > 8 || (count && !buckets))
			return -EPROTO;
		for (uint64_t i = 0; count && i < (1ull << B) && !err; i++)
			err = labels_hmap_bucket(p, b, buckets + i * HMAP_BUCKET, added);
		/* a growth not finished: entries not yet moved are still in the old buckets */
		for (uint64_t i = 0; old && B && i < (1ull << (B - 1)) && !err; i++)
			err = labels_hmap_bucket(p, b, old + i * HMAP_BUCKET, added);
		return err < 0 ? err : (err || *added < count) && *added >= MAX_LABELS;
	}
}

struct label_cache {
	uint64_t ptr;
	uint32_t off, n;
	bool truncated;
};

/* Reads g at gp (into buf, CHECK_LEN or read_len bytes), decodes it; 1 live, 0 dead, <0. */
static int read_one(struct gp_gsnap_proc *p, uint64_t gp, uint8_t *buf, struct gp_g_rec *rec)
{
	int err = rd(p, gp, buf, p->lay.read_len);

	if (err)
		return err;
	p->st->read++;
	return gp_g_decode(&p->lay, buf, p->lay.read_len, rec);
}

/* Did the goroutine change between the two reads? */
static bool same(const struct gp_g_rec *a, const struct gp_g_rec *b)
{
	return a->goid == b->goid && a->status == b->status && a->sp == b->sp && a->pc == b->pc &&
	       a->bp == b->bp && a->stack_lo == b->stack_lo && a->stack_hi == b->stack_hi &&
	       a->waitreason == b->waitreason && a->gopc == b->gopc;
}

/* Appends a goroutine (and its walked stack) to b. */
static int emit(struct gp_gsnap_buf *b, uint64_t gp, const struct gp_g_rec *r, const uint64_t *pcs,
		uint32_t n, uint8_t flags, uint64_t content)
{
	struct gp_gsnap_g *g;

	if (gp_grow((void **)&b->gs, &b->cap, b->nr + 1, sizeof(*b->gs)) ||
	    gp_grow((void **)&b->pcs, &b->pcs_cap, b->nr_pcs + n, sizeof(*b->pcs)))
		return -ENOMEM;
	g = &b->gs[b->nr++];
	*g = (struct gp_gsnap_g){
		.goid = r->goid, .parent_goid = r->parent_goid, .gopc = r->gopc,
		.startpc = r->startpc, .sp = r->sp, .labels_ptr = r->labels,
		.waitsince = r->waitsince, .status = r->status, .waitreason = r->waitreason,
		.stack_off = (uint32_t)b->nr_pcs, .nr_stack = n, .flags = flags,
		.depth = r->stack_hi - r->sp, .content = content, .addr = gp, .waiting = r->waiting,
	};
	if (n) /* b->pcs may still be NULL */
		memcpy(b->pcs + b->nr_pcs, pcs, n * sizeof(*pcs));
	b->nr_pcs += n;
	return 0;
}

/* Where the read of r's stack starts: GP_G_FRAME_BELOW_SP under its saved SP (arm64's
 * innermost frame record), within the stack. */
static uint64_t stack_start(const struct gp_g_rec *r)
{
	return r->sp - r->stack_lo >= GP_G_FRAME_BELOW_SP ? r->sp - GP_G_FRAME_BELOW_SP : r->sp;
}

/* Bytes of r's stack read: from stack_start() up, bounded. */
static size_t stack_len(const struct gp_g_rec *r)
{
	return (size_t)GP_MIN(r->stack_hi - stack_start(r), (uint64_t)STACK_READ_MAX);
}

/*
 * A digest of a parked stack that a stack copy does not change (words pointing into the
 * stack are taken relative to its top, as the runtime adjusts exactly those when it moves
 * a stack) but that changes when the goroutine runs and parks again at the same place
 * (its locals differ): tells a goroutine parked all along from one that woke meanwhile.
 */
static uint64_t content_hash(const struct gp_g_rec *r, const uint8_t *stk, size_t len)
{
	uint64_t h = r->stack_hi - r->sp;

	for (size_t i = 0; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, stk + i, 8);
		if (w >= r->stack_lo && w < r->stack_hi)
			w = (w - r->stack_hi) ^ 0x5a5a000000000000ull;
		h = gp_hash_mix(h, w);
	}
	return h;
}

/* Walks r's stack from a copy (stk, len bytes from stack_start()). */
static uint32_t walk_copy(const struct gp_g_rec *r, const uint8_t *stk, size_t len, uint64_t *pcs,
			  uint8_t *flags)
{
	bool trunc = false;
	uint32_t n = gp_g_unwind(r, stk, stack_start(r), len, pcs, GP_GSNAP_MAX_FRAMES, &trunc);

	if (trunc || len < r->stack_hi - stack_start(r))
		*flags |= GP_GSNAP_STACK_TRUNCATED;
	return n;
}

/*
 * One goroutine read alone (a retry): the g, its stack, the g and its stack again; kept
 * only when both reads agree. 1 emitted, 0 dead, unreadable or still changing (counted),
 * <0 the process cannot be read.
 */
static int read_alone(struct gp_gsnap_proc *p, struct gp_gsnap_buf *b, uint64_t gp, bool stacks)
{
	uint8_t buf[512], buf2[512];
	uint64_t pcs[GP_GSNAP_MAX_FRAMES];
	uint8_t *s1 = p->stk_alone, *s2 = p->stk_alone + STACK_READ_MAX;
	bool corrupt = false;

	for (int attempt = 0; attempt < MAX_RETRIES; attempt++) {
		struct gp_g_rec r, r2;
		uint32_t n = 0;
		uint8_t flags = 0;
		uint64_t content = 0;
		size_t len = 0;
		int ret;

		p->st->retries++;
		ret = read_one(p, gp, buf, &r);
		if (ret == -ESRCH || ret == -EPERM)
			return ret;
		if (ret == 0)
			return 0; /* it exited meanwhile */
		if (ret < 0 && ret != -EINVAL) {
			p->st->unreadable++;
			return 0;
		}
		corrupt = ret == -EINVAL;
		if (corrupt)
			continue;
		if (stacks && gp_g_is_parked(&r)) {
			len = stack_len(&r);
			if (rd(p, stack_start(&r), s1, len))
				continue;
		} else if (!gp_g_is_parked(&r)) {
			flags |= GP_GSNAP_NO_STACK;
		}
		if (read_one(p, gp, buf2, &r2) != 1 || !same(&r, &r2))
			continue;
		if (len && (rd(p, stack_start(&r), s2, len) || memcmp(s1, s2, len)))
			continue;
		if (len) {
			n = walk_copy(&r, s1, len, pcs, &flags);
			content = content_hash(&r, s1, len);
		}
		return emit(b, gp, &r, pcs, n, flags, content) ?: 1;
	}
	if (corrupt)
		p->st->rejected++;
	else
		p->st->changed++;
	return 0;
}

int gp_gsnap_proc_read(struct gp_gsnap_proc *p, struct gp_gsnap_buf *b, bool want_stacks,
		       bool want_labels, gp_gsnap_known_fn known, void *known_ctx,
		       struct gp_gsnap_read_stats *st, char *why, size_t why_len)
{
	uint64_t ptr, len, *addrs = NULL, pcs[GP_GSNAP_MAX_FRAMES], addrs2[BATCH];
	size_t *lens = NULL, *offs = NULL, gl = p->lay.read_len, lens2[BATCH], offs2[BATCH], idx2[BATCH];
	bool ok2[BATCH];
	struct pending *pend = NULL;
	struct label_cache *lc = NULL;
	size_t nlc = 0;
	bool *ok = NULL;
	char exe[64];
	struct stat sst;
	int err;

	why[0] = '\0';
	p->st = st;
	gp_gsnap_buf_reset(b);
	err = read_list_head(p, &ptr, &len, why, why_len);
	if (err)
		goto out;
	st->allglen += len;
	if (gp_grow((void **)&p->list, &p->list_cap, len ? len : 1, sizeof(*p->list)) ||
	    gp_grow((void **)&p->gbytes, &p->gbytes_cap, BATCH * CHECK_LEN * 4 + BATCH * 512, 1) ||
	    (!p->stk_alone && !(p->stk_alone = malloc(2 * STACK_READ_MAX)))) {
		err = -ENOMEM;
		goto out;
	}
	for (uint64_t i = 0; i < len; i += LIST_CHUNK) {
		size_t n = (size_t)GP_MIN(len - i, (uint64_t)LIST_CHUNK);

		err = rd(p, ptr + i * 8, p->list + i, n * 8);
		if (err == -ESRCH || err == -EPERM)
			goto out;
		if (err) {
			snprintf(why, why_len, "cannot read the %llu entries of runtime.allgs at 0x%llx",
				 (unsigned long long)len, (unsigned long long)ptr);
			err = -EPROTO;
			goto out;
		}
	}
	addrs = calloc(BATCH, sizeof(*addrs));
	lens = calloc(BATCH, sizeof(*lens));
	offs = calloc(BATCH, sizeof(*offs));
	ok = calloc(BATCH, sizeof(*ok));
	pend = calloc(BATCH, sizeof(*pend));
	lc = calloc(MAX_LABEL_CACHE, sizeof(*lc));
	if (!addrs || !lens || !offs || !ok || !pend || !lc) {
		err = -ENOMEM;
		goto out;
	}
	/*
	 * In batches: the g structs, the parked stacks, the g structs and the stacks again. A
	 * goroutine is kept when both reads agree; else it is read alone (read_alone).
	 */
	for (uint64_t base = 0; base < len; base += BATCH) {
		size_t n = (size_t)GP_MIN(len - base, (uint64_t)BATCH), m = 0, sbytes = 0;
		uint8_t *g1 = p->gbytes, *g2 = p->gbytes + BATCH * 512;

		for (size_t i = 0; i < n; i++) {
			uint64_t gp = p->list[base + i];

			if (!gp || gp & 7 || gp >= (1ull << 47)) {
				st->unreadable++;
				continue;
			}
			pend[m].gp = gp;
			addrs[m] = gp;
			lens[m] = gl;
			offs[m] = m * 512;
			m++;
		}
		err = read_ranges(p, addrs, lens, offs, m, g1, ok);
		if (err)
			goto out;
		for (size_t i = 0; i < m; i++) {
			int d;

			pend[i].ok = false;
			pend[i].slen = 0;
			if (!ok[i]) {
				st->unreadable++;
				continue;
			}
			st->read++;
			d = gp_g_decode(&p->lay, g1 + i * 512, gl, &pend[i].rec);
			if (d < 0) { /* torn (it changed while copied) or not a g: read alone */
				err = read_alone(p, b, pend[i].gp, want_stacks);
				if (err < 0)
					goto out;
				err = 0;
				continue;
			}
			pend[i].ok = d == 1;
			if (pend[i].ok && want_stacks && gp_g_is_parked(&pend[i].rec)) {
				pend[i].slen = stack_len(&pend[i].rec);
				pend[i].soff = sbytes;
				sbytes += pend[i].slen;
			}
		}
		if (gp_grow((void **)&p->stk, &p->stk_cap, 2 * sbytes + 1, 1)) {
			err = -ENOMEM;
			goto out;
		}
		/* first read of the stacks */
		{
			size_t k = 0;

			for (size_t i = 0; i < m; i++)
				if (pend[i].slen) {
					addrs2[k] = stack_start(&pend[i].rec);
					lens2[k] = pend[i].slen;
					offs2[k] = pend[i].soff;
					idx2[k++] = i;
				}
			err = read_ranges(p, addrs2, lens2, offs2, k, p->stk, ok2);
			if (err)
				goto out;
			for (size_t j = 0; j < k; j++) {
				struct pending *q = &pend[idx2[j]];

				q->sok = ok2[j];
				q->content = q->sok ? content_hash(&q->rec, p->stk + q->soff, q->slen) : 0;
				/* the very bytes a consistent earlier snapshot read: parked all along,
				 * the second read of the stack is not needed */
				q->known = q->sok && known && known(known_ctx, q->rec.goid,
								     q->rec.stack_hi - q->rec.sp,
								     q->content);
			}
			/* the g structs again, then the stacks not known again */
			for (size_t i = 0; i < m; i++) {
				lens[i] = CHECK_LEN;
				offs[i] = i * CHECK_LEN;
			}
			err = read_ranges(p, addrs, lens, offs, m, g2, ok);
			{
				size_t k2 = 0;

				for (size_t j = 0; j < k; j++) {
					if (pend[idx2[j]].known)
						continue;
					addrs2[k2] = addrs2[j];
					lens2[k2] = lens2[j];
					offs2[k2] = offs2[j];
					idx2[k2++] = idx2[j];
				}
				k = k2;
			}
			if (!err)
				err = read_ranges(p, addrs2, lens2, offs2, k, p->stk + sbytes, ok2);
			if (err)
				goto out;
			for (size_t j = 0; j < k; j++)
				pend[idx2[j]].sok &= ok2[j];
		}
		for (size_t i = 0; i < m; i++) {
			struct pending *q = &pend[i];
			struct gp_g_rec r2;
			uint8_t full[512], flags = 0;
			uint64_t content = 0;
			uint32_t np = 0;
			const uint8_t *s1 = p->stk + q->soff;

			if (!q->ok)
				continue;
			/* the check read covers the fields compared; decode needs read_len */
			memcpy(full, g1 + i * 512, gl);
			memcpy(full, g2 + i * CHECK_LEN, CHECK_LEN);
			if (ok[i] && gp_g_decode(&p->lay, full, gl, &r2) == 1 && same(&q->rec, &r2) &&
			    (!q->slen || (q->sok && (q->known ||
						     !memcmp(s1, p->stk + sbytes + q->soff, q->slen))))) {
				if (q->slen) {
					np = walk_copy(&q->rec, s1, q->slen, pcs, &flags);
					content = q->content;
				} else if (!gp_g_is_parked(&q->rec)) {
					flags |= GP_GSNAP_NO_STACK;
				}
				err = emit(b, q->gp, &q->rec, pcs, np, flags, content);
			} else {
				err = read_alone(p, b, q->gp, want_stacks);
				err = err < 0 ? err : 0;
			}
			if (err)
				goto out;
		}
	}
	(void)pcs;
	/* pprof labels, once per labels map (goroutines share their parent's) */
	for (size_t i = 0; want_labels && i < b->nr; i++) {
		struct gp_gsnap_g *g = &b->gs[i];
		struct label_cache *c = NULL;
		uint32_t added = 0;
		int r;

		if (!g->labels_ptr)
			continue;
		for (size_t j = 0; j < nlc && !c; j++)
			if (lc[j].ptr == g->labels_ptr)
				c = &lc[j];
		if (!c) {
			uint32_t off = (uint32_t)b->nr_labels;

			r = read_labels(p, b, g->labels_ptr, &added);
			if (r == -ENOMEM) {
				err = r;
				goto out;
			}
			if (r < 0) { /* changed or freed meanwhile: drop what was added */
				while (b->nr_labels > off)
					free(b->labels[--b->nr_labels]);
				added = 0;
			}
			if (nlc < MAX_LABEL_CACHE)
				lc[nlc++] = (struct label_cache){ g->labels_ptr, off, added, r == 1 };
			g->labels_off = off;
			g->nr_labels = added;
			if (r == 1)
				g->flags |= GP_GSNAP_LABELS_TRUNCATED;
			continue;
		}
		g->labels_off = c->off;
		g->nr_labels = c->n;
		if (c->truncated)
			g->flags |= GP_GSNAP_LABELS_TRUNCATED;
	}
	/*
	 * The channel of each goroutine parked in a plain send or receive: its sudog's c,
	 * when the sudog still points back to the goroutine (else it moved on: none).
	 */
	for (size_t i = 0; p->wr && i < b->nr; i++) {
		struct gp_gsnap_g *g = &b->gs[i];
		uint64_t sg[12];

		if (g->status != GP_GS_WAITING || !g->waiting || g->waiting & 7 ||
		    (g->waitreason != p->wr->chan_send && g->waitreason != p->wr->chan_recv))
			continue;
		if (rd(p, g->waiting, sg, p->lay.sudog_c + 8))
			continue;
		if (sg[GP_SUDOG_G / 8] == g->addr && sg[p->lay.sudog_c / 8] &&
		    !(sg[p->lay.sudog_c / 8] & 7) && sg[p->lay.sudog_c / 8] < (1ull << 47))
			g->chan = sg[p->lay.sudog_c / 8];
	}
	/* Still the same image? An exec meanwhile makes every address above meaningless. */
	snprintf(exe, sizeof(exe), "/proc/%d/exe", p->pid);
	if (stat(exe, &sst)) {
		err = -ESRCH;
	} else if (sst.st_dev != p->dev || sst.st_ino != p->ino) {
		snprintf(why, why_len, "process %d exec'd another program during the snapshot", p->pid);
		err = -ESTALE;
	}
	st->live += b->nr;
out:
	if (err == -ESRCH && !why[0])
		snprintf(why, why_len, "process %d exited during the snapshot", p->pid);
	if (err == -EPERM && !why[0])
		snprintf(why, why_len, "cannot read the memory of process %d (needs ptrace access: "
			 "same user or CAP_SYS_PTRACE)", p->pid);
	if (err)
		gp_gsnap_buf_reset(b);
	free(addrs);
	free(lens);
	free(offs);
	free(ok);
	free(pend);
	free(lc);
	return err;
}
