// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Process and kernel symbolization. A process's executable mappings come from
 * /proc/PID/maps; each file is opened once as a goprof_binary and shared by every process
 * that maps it (cache key: device + inode + mtime, then build ID + size, so the same binary
 * in two containers is opened once). Binaries stay until the symbolizer is freed, so
 * frame strings remain valid for as long as profiles reference them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/auxv.h>
#include <sys/stat.h>

#include "goprof/error.h"
#include "internal.h"
#include "sym/kallsyms.h"
#include "sym/proc_maps.h"
#include "sym/symbolizer_internal.h"

struct bin_entry {
	dev_t dev;
	ino_t ino;
	uint64_t mtime_ns;
	struct goprof_binary *bin; /* NULL if it could not be opened (negative cache) */
	struct bin_entry *next;
};

struct proc_entry {
	int pid;
	struct gp_maps maps;
	struct proc_entry *next;
};

#define PROC_BUCKETS 1024 /* pids hash into a fixed table of chains */

struct goprof_symbolizer {
	pthread_mutex_t lock;
	char *kallsyms_path;
	struct bin_entry *bins;
	struct proc_entry *procs[PROC_BUCKETS];
	/* [vdso] is the same image in every process of this kernel: ours, parsed once. */
	bool vdso_tried;
	struct goprof_binary *vdso;
	bool kallsyms_tried;
	int kallsyms_err;
	char kallsyms_msg[256]; /* why loading failed, repeated to every caller */
	struct gp_kallsyms ksyms;
	uint64_t kallsyms_loaded_ns;
	/* Tables replaced by a reload: kept because frames handed out point into them. */
	struct gp_kallsyms *old_ksyms;
	size_t nold_ksyms;
};

#define KALLSYMS_RELOAD_NS (5ull * 1000000000ull) /* at most one reload per 5 s */
/* Replaced tables are kept (frames point into them): bound them for long sessions. */
#define KALLSYMS_MAX_RELOADS 8

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

GOPROF_API struct goprof_symbolizer *goprof_symbolizer_new(const struct goprof_symbolizer_opts *opts)
{
	struct goprof_symbolizer *sym;
	const char *kpath;
	int err = OPTS_VALID(opts, goprof_symbolizer_opts, kallsyms_path);

	if (err) {
		errno = -err;
		return NULL;
	}
	sym = calloc(1, sizeof(*sym));
	if (!sym)
		return gp_err_null(-ENOMEM, "goprof_symbolizer_new: out of memory");
	kpath = OPTS_GET(opts, kallsyms_path, NULL);
	sym->kallsyms_path = strdup(kpath ? kpath : "/proc/kallsyms");
	if (!sym->kallsyms_path) {
		free(sym);
		return gp_err_null(-ENOMEM, "goprof_symbolizer_new: out of memory");
	}
	/* allow_newer_go is ignored: no binary is refused for its Go version. */
	pthread_mutex_init(&sym->lock, NULL);
	gp_clear_error();
	return sym;
}

GOPROF_API void goprof_symbolizer_free(struct goprof_symbolizer *sym)
{
	if (!sym)
		return;
	while (sym->bins) {
		struct bin_entry *b = sym->bins;

		sym->bins = b->next;
		/* Entries aliased by build ID share one binary: free it at its owner only. */
		if (b->bin) {
			struct bin_entry *o;

			for (o = sym->bins; o; o = o->next)
				if (o->bin == b->bin)
					o->bin = NULL;
			goprof_binary_free(b->bin);
		}
		free(b);
	}
	for (size_t b = 0; b < PROC_BUCKETS; b++) {
		while (sym->procs[b]) {
			struct proc_entry *p = sym->procs[b];

			sym->procs[b] = p->next;
			gp_maps_free(&p->maps);
			free(p);
		}
	}
	goprof_binary_free(sym->vdso);
	gp_kallsyms_free(&sym->ksyms);
	for (size_t k = 0; k < sym->nold_ksyms; k++)
		gp_kallsyms_free(&sym->old_ksyms[k]);
	free(sym->old_ksyms);
	free(sym->kallsyms_path);
	pthread_mutex_destroy(&sym->lock);
	free(sym);
}

static bool same_build_id(struct goprof_binary *a, struct goprof_binary *b)
{
	const uint8_t *x, *y;
	size_t nx = gp_elf_gnu_build_id(&a->elf, &x), ny = gp_elf_gnu_build_id(&b->elf, &y);

	if (a->elf.size != b->elf.size)
		return false;
	if (nx && nx == ny && memcmp(x, y, nx) == 0)
		return true;
	return a->go_build_id && b->go_build_id && strcmp(a->go_build_id, b->go_build_id) == 0;
}

/* The binary behind mapping m of pid (lock held). Opens it on first use. */
static struct goprof_binary *mapping_binary(struct goprof_symbolizer *sym, int pid, const struct gp_mapping *m)
{
	struct bin_entry *e;
	struct goprof_binary *bin = NULL;
	char path[4200];
	struct stat st;
	uint64_t mtime = 0;

	if (m->path[0] != '/')
		return NULL; /* [vdso], anonymous JIT code, ... */
	/* map_files reaches the mapped file even if it was deleted or lives in a container. */
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", pid, (unsigned long long)m->start,
		 (unsigned long long)m->end);
	if (stat(path, &st) != 0) {
		snprintf(path, sizeof(path), "/proc/%d/root%s", pid, m->path);
		if (stat(path, &st) != 0)
			snprintf(path, sizeof(path), "%s", m->path);
	}
	if (stat(path, &st) == 0)
		mtime = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
	for (e = sym->bins; e; e = e->next)
		if (e->dev == m->dev && e->ino == m->ino && e->mtime_ns == mtime)
			return e->bin;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->dev = m->dev;
	e->ino = m->ino;
	e->mtime_ns = mtime;
	bin = calloc(1, sizeof(*bin));
	if (bin && gp_binary_init(bin, path, NULL, 0) == 0) {
		struct bin_entry *o;

		/* Report the path the process sees, not /proc/PID/map_files/... */
		char *shown = strdup(m->path);

		if (shown) {
			free(bin->elf.path);
			bin->elf.path = shown;
		}
		for (o = sym->bins; o; o = o->next) {
			if (o->bin && same_build_id(o->bin, bin)) {
				goprof_binary_free(bin);
				bin = o->bin;
				break;
			}
		}
		e->bin = bin;
	} else {
		free(bin);
	}
	e->next = sym->bins;
	sym->bins = e;
	return e->bin;
}

static struct proc_entry **proc_bucket(struct goprof_symbolizer *sym, int pid)
{
	return &sym->procs[(unsigned int)pid % PROC_BUCKETS];
}

static struct proc_entry *find_proc(struct goprof_symbolizer *sym, int pid)
{
	struct proc_entry *p;

	for (p = *proc_bucket(sym, pid); p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

/* Our own vDSO as a binary (lock held). The kernel maps one image into every process. */
static struct goprof_binary *vdso_binary(struct goprof_symbolizer *sym)
{
	const uint8_t *img = (const uint8_t *)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	struct goprof_binary *bin;
	size_t size;

	if (sym->vdso_tried)
		return sym->vdso;
	sym->vdso_tried = true;
	if (!img || memcmp(img, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64)
		return NULL;
	/* The section headers come last in the vDSO image. */
	size = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
	if (size < sizeof(*eh) || size > (1u << 20))
		return NULL;
	bin = calloc(1, sizeof(*bin));
	if (!bin)
		return NULL;
	/* elf_memory() wants a writable image: use a private copy (a few KiB). */
	{
		uint8_t *copy = malloc(size);

		if (!copy || gp_binary_init(bin, NULL, memcpy(copy, img, size), size) != 0) {
			free(copy);
			free(bin);
			return NULL;
		}
		bin->elf.owns_map = false;
		bin->vdso_copy = copy;
	}
	free(bin->elf.path);
	bin->elf.path = strdup("[vdso]");
	sym->vdso = bin;
	return bin;
}

/* Link-time address of ip inside mapping m of binary bin. */
static uint64_t to_vaddr(const struct goprof_binary *bin, const struct gp_mapping *m, uint64_t ip)
{
	uint64_t file_off = ip - m->start + m->offset;
	size_t i;

	/* The PT_LOAD segment that holds this file offset gives vaddr - offset. */
	for (i = 0; i < bin->elf.nsegs; i++) {
		const struct gp_vseg *s = &bin->elf.segs[i];
		uint64_t seg_off = (uint64_t)(s->data - bin->elf.map);

		if (file_off >= (seg_off & ~0xfffull) && file_off < seg_off + s->len)
			return file_off + s->vaddr - seg_off;
	}
	return file_off + bin->elf.first_load_vaddr;
}

/* The mapping of ip in pid, its binary resolved (lock held). 0, or a negative error. */
static int locate(struct goprof_symbolizer *sym, int pid, uint64_t ip, struct gp_mapping **out)
{
	struct proc_entry *p;
	struct gp_mapping *m;
	int err;

	*out = NULL;
	p = find_proc(sym, pid);
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return gp_err(-ENOMEM, "out of memory");
		err = gp_maps_read(&p->maps, pid);
		if (err) {
			free(p);
			return err;
		}
		p->pid = pid;
		p->next = *proc_bucket(sym, pid);
		*proc_bucket(sym, pid) = p;
	}
	m = gp_maps_find(&p->maps, ip);
	if (!m) {
		/* A mapping created after we read maps (dlopen, a new JIT region): re-read once. */
		struct gp_maps fresh;

		/*
		 * A zombie (exited, not yet reaped) shows no mappings: keep what was read while
		 * it ran, or every later lookup of its buffered samples would fail.
		 */
		if (gp_maps_read(&fresh, pid) == 0) {
			if (fresh.n) {
				gp_maps_free(&p->maps);
				p->maps = fresh;
				m = gp_maps_find(&p->maps, ip);
			} else {
				gp_maps_free(&fresh);
			}
		}
	}
	if (m && !m->resolved) {
		/* Resolve each mapping once: later lookups cost no system call. */
		m->binary = strcmp(m->path, "[vdso]") == 0 ? vdso_binary(sym) : mapping_binary(sym, pid, m);
		m->resolved = true;
	}
	*out = m;
	return 0;
}

int gp_symbolize_pid_mapping(struct goprof_symbolizer *sym, int pid, uint64_t ip, struct gp_mapping_info *out)
{
	struct gp_mapping *m;
	struct goprof_binary *bin;
	int err;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&sym->lock);
	err = locate(sym, pid, ip, &m);
	if (!err && m) {
		bin = m->binary;
		out->start = m->start;
		out->end = m->end;
		out->file_offset = m->offset;
		/* Binaries outlive the maps; their path is the process's view of the file. */
		out->path = bin ? bin->elf.path : NULL;
		out->build_id = bin ? bin->build_id_hex : "";
		out->bin = bin;
	}
	pthread_mutex_unlock(&sym->lock);
	if (err)
		return err;
	return m ? 1 : 0;
}

int gp_symbolize_pid(struct goprof_symbolizer *sym, int pid, uint64_t ip, struct goprof_frame *frames, int max)
{
	struct gp_mapping *m;
	struct goprof_binary *bin;
	uint64_t vaddr;
	int err, n, i;

	pthread_mutex_lock(&sym->lock);
	err = locate(sym, pid, ip, &m);
	if (err) {
		pthread_mutex_unlock(&sym->lock);
		return err;
	}
	bin = m ? m->binary : NULL;
	vaddr = bin ? to_vaddr(bin, m, ip) : 0;
	pthread_mutex_unlock(&sym->lock);
	if (!bin)
		return 0;
	/* Binaries are immutable once cached and lookups need no lock. */
	n = gp_binary_lookup(bin, vaddr, frames, max);
	for (i = 0; i < n && i < max; i++)
		frames[i].addr = ip;
	return n;
}

static int load_kallsyms(struct goprof_symbolizer *sym)
{
	pthread_mutex_lock(&sym->lock);
	if (!sym->kallsyms_tried) {
		sym->kallsyms_err = gp_kallsyms_load(&sym->ksyms, sym->kallsyms_path);
		if (sym->kallsyms_err)
			gp_strlcpy(sym->kallsyms_msg, goprof_last_error(), sizeof(sym->kallsyms_msg));
		sym->kallsyms_tried = true;
		sym->kallsyms_loaded_ns = now_ns();
	}
	pthread_mutex_unlock(&sym->lock);
	if (sym->kallsyms_err)
		return gp_err(sym->kallsyms_err, "kernel symbols unavailable: %s", sym->kallsyms_msg);
	return 0;
}

/*
 * A kernel address we cannot place may belong to a module loaded after kallsyms was read:
 * read it again (rate-limited), keeping the old table alive for frames already handed out.
 */
static const struct gp_ksym *reload_and_find(struct goprof_symbolizer *sym, uint64_t ip, struct gp_kallsyms **ks)
{
	struct gp_kallsyms fresh, *old;
	uint64_t t = now_ns();

	if (t - sym->kallsyms_loaded_ns < KALLSYMS_RELOAD_NS || sym->nold_ksyms >= KALLSYMS_MAX_RELOADS)
		return NULL;
	sym->kallsyms_loaded_ns = t;
	if (gp_kallsyms_load(&fresh, sym->kallsyms_path) != 0)
		return NULL;
	if (!gp_kallsyms_find(&fresh, ip)) {
		/* Not there either (not a symbol at all): keep the table we have, or every
		 * such address would pin another copy of it. */
		gp_kallsyms_free(&fresh);
		return NULL;
	}
	old = realloc(sym->old_ksyms, (sym->nold_ksyms + 1) * sizeof(*old));
	if (!old) {
		gp_kallsyms_free(&fresh);
		return NULL;
	}
	sym->old_ksyms = old;
	sym->old_ksyms[sym->nold_ksyms++] = sym->ksyms;
	sym->ksyms = fresh;
	*ks = &sym->ksyms;
	return gp_kallsyms_find(&sym->ksyms, ip);
}

int gp_symbolize_kernel(struct goprof_symbolizer *sym, uint64_t ip, struct goprof_frame *frame)
{
	const struct gp_ksym *k;
	struct gp_kallsyms *ks;
	int err = load_kallsyms(sym);

	if (err)
		return err;
	/* The lock guards against a concurrent reload swapping the table. */
	pthread_mutex_lock(&sym->lock);
	ks = &sym->ksyms;
	k = gp_kallsyms_find(ks, ip);
	if (!k)
		k = reload_and_find(sym, ip, &ks);
	if (!k) {
		pthread_mutex_unlock(&sym->lock);
		return 0;
	}
	memset(frame, 0, sizeof(*frame));
	frame->sz = sizeof(*frame);
	frame->kind = GOPROF_FRAME_KIND_KERNEL;
	frame->nframes = 1;
	frame->addr = frame->vaddr = ip;
	frame->func_addr = k->addr;
	frame->function = gp_ksym_name(ks, k);
	frame->module = gp_ksym_module(ks, k);
	pthread_mutex_unlock(&sym->lock);
	return 1;
}

GOPROF_API int goprof_symbolizer_symbolize_pid(struct goprof_symbolizer *sym, int pid, const uint64_t *addrs,
					       size_t n, goprof_frame_fn cb, void *ctx)
{
	struct goprof_frame frames[GP_MAX_FRAMES];
	size_t i;
	int k, j, ret;

	if (!sym || (n && !addrs) || !cb || pid <= 0)
		return gp_err(-EINVAL, "goprof_symbolizer_symbolize_pid: invalid argument");
	for (i = 0; i < n; i++) {
		k = gp_symbolize_pid(sym, pid, addrs[i], frames, GP_MAX_FRAMES);
		if (k < 0)
			return k;
		for (j = 0; j < k; j++) {
			frames[j].addr_index = i;
			ret = cb(&frames[j], ctx);
			if (ret)
				return ret;
		}
	}
	return 0;
}

GOPROF_API int goprof_symbolizer_symbolize_kernel(struct goprof_symbolizer *sym, const uint64_t *addrs,
						  size_t n, goprof_frame_fn cb, void *ctx)
{
	struct goprof_frame f;
	size_t i;
	int k, ret;

	if (!sym || (n && !addrs) || !cb)
		return gp_err(-EINVAL, "goprof_symbolizer_symbolize_kernel: invalid argument");
	for (i = 0; i < n; i++) {
		k = gp_symbolize_kernel(sym, addrs[i], &f);
		if (k < 0)
			return k;
		if (k) {
			f.addr_index = i;
			ret = cb(&f, ctx);
			if (ret)
				return ret;
		}
	}
	return 0;
}

GOPROF_API int goprof_symbolizer_forget_pid(struct goprof_symbolizer *sym, int pid)
{
	struct proc_entry **pp, *p;

	if (!sym)
		return gp_err(-EINVAL, "goprof_symbolizer_forget_pid: NULL symbolizer");
	pthread_mutex_lock(&sym->lock);
	for (pp = proc_bucket(sym, pid); (p = *pp); pp = &p->next) {
		if (p->pid == pid) {
			*pp = p->next;
			gp_maps_free(&p->maps);
			free(p);
			pthread_mutex_unlock(&sym->lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&sym->lock);
	return gp_err(-ENOENT, "pid %d is not cached", pid);
}

size_t gp_symbolizer_nbinaries(struct goprof_symbolizer *sym)
{
	struct bin_entry *e, *o;
	size_t n = 0;

	pthread_mutex_lock(&sym->lock);
	for (e = sym->bins; e; e = e->next) {
		bool seen = false;

		for (o = sym->bins; o != e && !seen; o = o->next)
			seen = o->bin == e->bin;
		n += e->bin && !seen;
	}
	pthread_mutex_unlock(&sym->lock);
	return n;
}
