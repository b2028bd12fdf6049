/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/**
 * @file symbolizer.h
 * @brief Symbolization: Go binaries (pclntab, inline frames, build info), native ELF
 *        symbols, processes (through /proc/PID/maps) and the kernel (/proc/kallsyms).
 *
 * Two handles:
 * - struct goprof_binary: one executable or shared object opened from a path. Addresses
 *   given to it are link-time virtual addresses of that file (what `go tool addr2line`
 *   and `nm` print), not run-time addresses of a process.
 * - struct goprof_symbolizer: run-time addresses of processes and of the kernel. It
 *   reads /proc/PID/maps, subtracts each mapping's load bias and keeps one opened binary
 *   per file (keyed by device, inode and build ID), shared by every process running it.
 *
 * Frames are delivered innermost first: for a PC inside inlined code, the inlined
 * functions come first (flag GOPROF_FRAME_INLINED), the physical function last, as in
 * Go's runtime.CallersFrames and in pprof. Addresses are looked up exactly as given: for
 * a return address taken from a stack, pass the address minus one.
 *
 * Strings in frames point into the opened file's mapping or the symbolizer's tables; they
 * stay valid until the goprof_binary or goprof_symbolizer that produced them is freed.
 */
#ifndef GOPROF_SYMBOLIZER_H
#define GOPROF_SYMBOLIZER_H

#include <goprof/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Frame flag: the function was inlined into the next frame's function. */
#define GOPROF_FRAME_INLINED 0x1u

/**
 * One source-level frame of an address. Filled by the library; read a field only if it
 * lies within @c sz (fields are only ever appended).
 */
struct goprof_frame {
	/** Size in bytes of this struct as the library filled it. */
	uint32_t sz;
	/** GOPROF_FRAME_KIND_* */
	uint32_t kind;
	/** GOPROF_FRAME_* flags. */
	uint32_t flags;
	/** Source line, 0 if unknown. */
	uint32_t line;
	/** Line of the function's declaration (Go 1.20+ binaries), 0 if unknown. */
	uint32_t start_line;
	/** Position in the chain of this address: 0 is the innermost frame. */
	uint32_t frame_index;
	/** Number of frames of this address. */
	uint32_t nframes;
	/** Reserved, zero. */
	uint32_t reserved0;
	/** Index of the address in the array passed to the symbolize call. */
	uint64_t addr_index;
	/** The address as passed in. */
	uint64_t addr;
	/** The address as a link-time address of the module (equal to addr for a goprof_binary). */
	uint64_t vaddr;
	/** Link-time entry address of the (physical) function; 0 if unknown. */
	uint64_t func_addr;
	/** Function name (Go's full name, e.g. "main.(*T).Run"); never NULL. */
	const char *function;
	/** Source file, or NULL if unknown. */
	const char *file;
	/** Path of the binary, or kernel module name ("[ext4]") or "[kernel]"; may be NULL. */
	const char *module;
	/** Reserved, zero. */
	uint64_t reserved[4];
};

/**
 * Receives one frame. Return 0 to continue, non-zero to stop the call, which then
 * returns that value.
 */
typedef int (*goprof_frame_fn)(const struct goprof_frame *frame, void *ctx);

/** A function of a binary, as listed by goprof_binary_foreach_function(). */
struct goprof_function {
	/** Size in bytes of this struct as the library filled it. */
	uint32_t sz;
	/** GOPROF_FRAME_KIND_GO or GOPROF_FRAME_KIND_NATIVE. */
	uint32_t kind;
	/** Line of the declaration, 0 if unknown. */
	uint32_t start_line;
	/** Reserved, zero. */
	uint32_t reserved0;
	/** Link-time entry address. */
	uint64_t entry;
	/** Link-time end address (exclusive). */
	uint64_t end;
	/** Function name; never NULL. */
	const char *name;
	/** Source file of the entry, or NULL. */
	const char *file;
	/** Reserved, zero. */
	uint64_t reserved[2];
};

/** Receives one function; return non-zero to stop. */
typedef int (*goprof_function_fn)(const struct goprof_function *fn, void *ctx);

/** Options of goprof_binary_open(). Initialize with GOPROF_OPTS(). */
struct goprof_binary_opts {
	/** sizeof(struct goprof_binary_opts) */
	size_t sz;
	/**
	 * Ignored since 1.1.0: binaries are never refused for their version string. A Go
	 * binary is opened when its pclntab magic and header are a format this library
	 * reads, whatever release its build info names; an unknown magic fails with
	 * -GOPROF_ERRNO_GO_VERSION naming the magic. Kept for ABI compatibility. (since 1.1)
	 */
	uint32_t allow_newer_go;
	/** Reserved, zero. */
	uint32_t reserved0;
};

/** pclntab format: Go 1.2-1.15 (magic 0xfffffffb). */
#define GOPROF_PCLNTAB_GO1_2 1
/** pclntab format: Go 1.16-1.17 (magic 0xfffffffa). */
#define GOPROF_PCLNTAB_GO1_16 2
/** pclntab format: Go 1.18-1.19 (magic 0xfffffff0). */
#define GOPROF_PCLNTAB_GO1_18 3
/** pclntab format: Go 1.20 and later (magic 0xfffffff1). */
#define GOPROF_PCLNTAB_GO1_20 4

/** The pclntab was found as a section (.gopclntab or .data.rel.ro.gopclntab). */
#define GOPROF_PCLNTAB_FOUND_SECTION 1
/** The pclntab was found through the runtime.pclntab/runtime.epclntab symbols. */
#define GOPROF_PCLNTAB_FOUND_SYMBOL 2
/** The pclntab was found by scanning the file's read-only segments. */
#define GOPROF_PCLNTAB_FOUND_SCAN 3

/** Where and what a binary's Go function table is; see goprof_binary_pclntab_info(). */
struct goprof_pclntab_info {
	/** Set by the caller to sizeof(struct goprof_pclntab_info); the library fills at most sz bytes. */
	uint32_t sz;
	/** GOPROF_PCLNTAB_GO1_* */
	uint32_t format;
	/** GOPROF_PCLNTAB_FOUND_* */
	uint32_t found_by;
	/** Number of functions. */
	uint32_t nfunc;
	/** Link-time address of the table. */
	uint64_t addr;
	/** File offset of the table. */
	uint64_t file_offset;
	/** Bytes of the table (to the end of its section or segment when found by scan). */
	uint64_t size;
	/** Start of Go text (function entries are relative to it in 1.18+). */
	uint64_t text_start;
	/** Link-time address of runtime.firstmoduledata, 0 if not found. */
	uint64_t moduledata;
	/** Number of source files. */
	uint32_t nfiles;
	/** PC quantum (1 on amd64, 4 on arm64). */
	uint32_t quantum;
	/** Pointer size in bytes. */
	uint32_t ptr_size;
	/** Reserved, zero. */
	uint32_t reserved0;
};

/** An opened binary (opaque). */
struct goprof_binary;

/**
 * Opens an ELF binary for symbolization. The file is mapped, not read into memory.
 * A Go binary's pclntab is found by section, by symbol or by a validated scan, so
 * stripped and externally linked binaries work. A non-Go ELF file opens too: it gets
 * native symbols only and goprof_binary_is_go() returns 0.
 *
 * @param path  file to open.
 * @param opts  options, or NULL for defaults.
 * @return the handle, or NULL with errno set: ENOENT/EACCES (cannot open),
 *         GOPROF_ERRNO_NOT_GO (not ELF), GOPROF_ERRNO_CORRUPT (damaged Go metadata),
 *         GOPROF_ERRNO_GO_VERSION (unknown pclntab magic, named in the message), EINVAL (opts).
 *         goprof_last_error() says which.
 * @note Thread-safe. The handle may be used by several threads at once for lookups.
 */
GOPROF_API struct goprof_binary *goprof_binary_open(const char *path, const struct goprof_binary_opts *opts);

/**
 * Closes a binary; NULL is ignored. No other call on it may run concurrently.
 * @param bin the binary, or NULL.
 */
GOPROF_API void goprof_binary_free(struct goprof_binary *bin);

/**
 * @param bin the binary.
 * @return 1 if the binary has a usable Go pclntab, 0 if not (or bin is NULL).
 */
GOPROF_API int goprof_binary_is_go(const struct goprof_binary *bin);

/**
 * @param bin the binary.
 * @return the path the binary was opened from; never NULL for a valid handle.
 */
GOPROF_API const char *goprof_binary_path(const struct goprof_binary *bin);

/**
 * @param bin the binary.
 * @return the exact Go version from .go.buildinfo ("go1.21.5"), or NULL if the binary
 *         has no build info (non-Go, or older than Go 1.13).
 */
GOPROF_API const char *goprof_binary_go_version(const struct goprof_binary *bin);

/**
 * @param bin the binary.
 * @return the module information text of .go.buildinfo, as `go version -m` prints it
 *         (lines "path", "mod", "dep", "build"), or NULL if absent.
 */
GOPROF_API const char *goprof_binary_go_modinfo(const struct goprof_binary *bin);

/**
 * Looks up one value of the build information: "path" (main package path), "mod" (main
 * module path), or any build setting key ("GOOS", "-ldflags", "vcs.revision", ...).
 *
 * @param bin  the binary.
 * @param key  what to look up.
 * @param buf  receives the NUL-terminated value (truncated to len - 1 bytes); may be NULL if len is 0.
 * @param len  size of @p buf in bytes.
 * @return the value's full length, or -ENOENT if absent, -EINVAL if bin or key is NULL.
 */
GOPROF_API int goprof_binary_go_build_info(const struct goprof_binary *bin, const char *key,
					   char *buf, size_t len);

/**
 * @param bin the binary.
 * @return the Go build ID ("actionID/contentID..."), or NULL if absent.
 */
GOPROF_API const char *goprof_binary_go_build_id(const struct goprof_binary *bin);

/**
 * Copies the GNU build ID (NT_GNU_BUILD_ID note) bytes.
 *
 * @param bin the binary.
 * @param buf receives the ID bytes.
 * @param len size of @p buf in bytes.
 * @return the ID's length in bytes (copies at most len), -ENOENT if there is none,
 *         -EINVAL if bin is NULL.
 */
GOPROF_API int goprof_binary_gnu_build_id(const struct goprof_binary *bin, uint8_t *buf, size_t len);

/**
 * Describes the binary's Go function table.
 *
 * @param info  out: set info->sz first; at most info->sz bytes are written.
 * @param bin the binary.
 * @return 0, -GOPROF_ERRNO_NOT_GO if the binary has no pclntab, -EINVAL on NULL.
 */
GOPROF_API int goprof_binary_pclntab_info(const struct goprof_binary *bin, struct goprof_pclntab_info *info);

/** What the library can read from a Go binary's release; see goprof_binary_go_support(). (since 1.1) */
struct goprof_go_support {
	/** Set by the caller to sizeof(struct goprof_go_support); the library fills at most sz bytes. */
	uint32_t sz;
	/** GOPROF_GO_SUPPORT_* */
	uint32_t flags;
	/**
	 * GOPROF_FEATURE_* (goprof/session.h) that give data for this binary's processes.
	 * Those that read runtime structures (goroutines, GC, heap, allocations, scheduling,
	 * blocking, channels, net/http uprobes) need the runtime layout of the binary's
	 * release; off-CPU, TCP and the wire HTTP tracer do not depend on it.
	 */
	uint32_t features;
	/** The Go minor release whose runtime layout is used (27 for go1.27.3), 0 if none. */
	uint32_t go_minor;
	/** What is missing and why, or "". */
	char note[256];
};

/** @name Flags of goprof_go_support.flags
 * @{ */
/** Go stacks are symbolized from the pclntab (every Go binary that opens). */
#define GOPROF_GO_SUPPORT_STACKS 0x1u
/** Inline frames: the inline trees were found (moduledata or the go:func.* symbol). */
#define GOPROF_GO_SUPPORT_INLINE 0x2u
/** CPU samples carry goroutine IDs and pprof labels: the release's runtime layout is known. */
#define GOPROF_GO_SUPPORT_GOROUTINE_IDS 0x4u
/** @} */

/**
 * Says which capabilities a Go binary's release supports: CPU stacks always; goroutine
 * IDs, labels and the runtime features only when the runtime layout of the release named
 * by the build info is known, and the build info is believable (its release fits the
 * pclntab format and moduledata layout). The note names what is missing and why.
 *
 * @param bin  the binary.
 * @param out  out: set out->sz first; at most out->sz bytes are written.
 * @return 0, -GOPROF_ERRNO_NOT_GO if the binary is not Go, -EINVAL on NULL or sz unset.
 * @note Thread-safe. (since 1.1)
 */
GOPROF_API int goprof_binary_go_support(const struct goprof_binary *bin, struct goprof_go_support *out);

/**
 * Symbolizes link-time addresses of the binary. For each address with a function, cb
 * receives its frames innermost first; an address in no function produces no call.
 * Go functions come from the pclntab (with inline frames), others from ELF symbols.
 *
 * @param bin   the binary.
 * @param addrs link-time addresses.
 * @param n     entries in @p addrs.
 * @param cb    receives the frames of each address.
 * @param ctx   passed to @p cb.
 * @return 0, cb's non-zero return value if it stopped early, or a negative error:
 *         -EINVAL (NULL arguments), -GOPROF_ERRNO_CORRUPT (an address hit a damaged table
 *         entry; the frames of earlier addresses were delivered).
 * @note Thread-safe: concurrent calls on one binary are allowed.
 */
GOPROF_API int goprof_binary_symbolize(struct goprof_binary *bin, const uint64_t *addrs, size_t n,
				       goprof_frame_fn cb, void *ctx);

/**
 * Symbolizes one link-time address into an array.
 *
 * @param bin       the binary.
 * @param addr      a link-time address.
 * @param frames    out: up to cap frames, innermost first.
 * @param cap       number of elements of frames.
 * @param frame_sz  sizeof(struct goprof_frame) as the caller knows it (the array stride).
 * @return the number of frames of the address (may exceed cap: then only cap were written),
 *         0 if it is in no function, or a negative error as goprof_binary_symbolize().
 * @note Thread-safe.
 */
GOPROF_API int goprof_binary_symbolize_addr(struct goprof_binary *bin, uint64_t addr,
					    struct goprof_frame *frames, size_t cap, size_t frame_sz);

/**
 * Lists the binary's functions in address order: the Go functions of the pclntab, or for
 * a non-Go binary its ELF function symbols.
 *
 * @param bin the binary.
 * @param cb  receives each function.
 * @param ctx passed to @p cb.
 * @return 0, cb's non-zero value if it stopped, or a negative error.
 */
GOPROF_API int goprof_binary_foreach_function(struct goprof_binary *bin, goprof_function_fn cb, void *ctx);

/** Options of goprof_symbolizer_new(). Initialize with GOPROF_OPTS(). */
struct goprof_symbolizer_opts {
	/** sizeof(struct goprof_symbolizer_opts) */
	size_t sz;
	/** Ignored since 1.1.0: binaries are never refused for their version string (see
	 * goprof_binary_opts). Kept for ABI compatibility. (since 1.1) */
	uint32_t allow_newer_go;
	/** Reserved, zero. */
	uint32_t reserved0;
	/** Path of the kernel symbol file; NULL means "/proc/kallsyms". (since 1.1) */
	const char *kallsyms_path;
};

/** Process and kernel symbolizer with a shared binary cache (opaque). */
struct goprof_symbolizer;

/**
 * Creates a symbolizer.
 * @param opts options, or NULL for the defaults.
 * @return the handle, or NULL with errno set (ENOMEM, EINVAL for bad opts).
 * @note Every function on the handle is thread-safe.
 */
GOPROF_API struct goprof_symbolizer *goprof_symbolizer_new(const struct goprof_symbolizer_opts *opts);

/**
 * Frees a symbolizer and every binary it cached; NULL is ignored.
 * @param sym the symbolizer, or NULL.
 */
GOPROF_API void goprof_symbolizer_free(struct goprof_symbolizer *sym);

/**
 * Symbolizes run-time addresses of process pid (user space). The process's mappings are
 * read from /proc/PID/maps on first use and again when an address falls outside every
 * known mapping; they are kept after the process exits until goprof_symbolizer_forget_pid().
 * Each mapped file is opened once (through /proc/PID/map_files, so deleted files and
 * other mount namespaces work) and shared by all processes that map it; [vdso] frames
 * come from the vDSO image of the running kernel. Frames carry the run-time address in
 * addr and the file's link-time address in vaddr. Needs read access to /proc/PID/maps
 * (and, for map_files, CAP_SYS_ADMIN or ptrace access; otherwise the path is used).
 *
 * @param sym   the symbolizer.
 * @param pid   the process.
 * @param addrs run-time addresses.
 * @param n     entries in @p addrs.
 * @param cb    receives the frames of each address.
 * @param ctx   passed to @p cb.
 * @return 0, cb's non-zero value, or a negative error: -ESRCH (no such process and none
 *         cached), -EACCES (maps not readable), -EINVAL.
 */
GOPROF_API int goprof_symbolizer_symbolize_pid(struct goprof_symbolizer *sym, int pid,
					       const uint64_t *addrs, size_t n,
					       goprof_frame_fn cb, void *ctx);

/**
 * Symbolizes kernel addresses from /proc/kallsyms (loaded on first use; modules included).
 *
 * @param sym   the symbolizer.
 * @param addrs kernel addresses.
 * @param n     entries in @p addrs.
 * @param cb    receives the frames of each address.
 * @param ctx   passed to @p cb.
 * @return 0, cb's non-zero value, or a negative error: -EACCES if kallsyms shows no
 *         addresses (needs CAP_SYSLOG or kernel.kptr_restrict=0), -ENOENT.
 */
GOPROF_API int goprof_symbolizer_symbolize_kernel(struct goprof_symbolizer *sym, const uint64_t *addrs,
						  size_t n, goprof_frame_fn cb, void *ctx);

/**
 * Drops the cached mappings of pid (call when the process has exited and its samples are
 * no longer needed). Opened binaries stay cached until goprof_symbolizer_free(), so frame
 * strings already handed out remain valid.
 * @param sym the symbolizer.
 * @param pid the process.
 * @return 0, or -ENOENT if pid was not cached.
 */
GOPROF_API int goprof_symbolizer_forget_pid(struct goprof_symbolizer *sym, int pid);

#ifdef __cplusplus
}
#endif

#endif /* GOPROF_SYMBOLIZER_H */
