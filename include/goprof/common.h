/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/**
 * @file common.h
 * @brief Definitions shared by every libgoprof header: the export macro, the
 *        options-struct initializer and the library's own error codes.
 *
 * Conventions used throughout the API:
 * - Functions return 0 or a negative errno; constructors return NULL and set errno.
 *   After any failure goprof_last_error() returns a message for the calling thread.
 * - Options structs start with `size_t sz` and are initialized with GOPROF_OPTS().
 * - Structs handed to callbacks start with `uint32_t sz`, the number of valid bytes;
 *   read a field only if it lies within sz (fields are only ever appended).
 * - Enumerations are fixed-width integers with GOPROF_* macros, never C enums, so FFI
 *   users can describe every struct without a C compiler.
 */
#ifndef GOPROF_COMMON_H
#define GOPROF_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a function as part of the public, versioned ABI. */
#if defined(__GNUC__) || defined(__clang__)
#define GOPROF_API __attribute__((visibility("default")))
#else
#define GOPROF_API
#endif

/**
 * Declares and initializes an options struct of type `struct TYPE` named NAME: all bytes
 * zero, `sz` set to the struct's size, then the designated initializers given.
 *
 *     GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = 49);
 *
 * Zeroing through memset keeps padding bytes zero, which the library checks. (The C
 * form uses a GNU statement expression, as libbpf's LIBBPF_OPTS does; C++ needs C++20.)
 */
#ifdef __cplusplus
/* C++20 designated initializers; every public options struct has no implicit padding. */
#define GOPROF_OPTS(TYPE, NAME, ...) \
	struct TYPE NAME = { .sz = sizeof(struct TYPE), __VA_ARGS__ }
#else
#define GOPROF_OPTS(TYPE, NAME, ...)                                     \
	struct TYPE NAME = ({                                            \
		memset(&NAME, 0, sizeof(struct TYPE));                   \
		(struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ }; \
	})
#endif

/** First error code of libgoprof's own (returned negated, like errno values). */
#define GOPROF_ERRNO_BASE 4000
/** The binary is not a Go program (no pclntab or buildinfo found). */
#define GOPROF_ERRNO_NOT_GO 4001
/** The binary's Go metadata is corrupt, truncated or inconsistent. */
#define GOPROF_ERRNO_CORRUPT 4002
/** The Go version or table format is newer than this library knows. */
#define GOPROF_ERRNO_GO_VERSION 4003
/** The running kernel lacks a feature libgoprof needs (BTF, a tracepoint, ...). */
#define GOPROF_ERRNO_KERNEL 4004
/** A BPF program was rejected by the kernel verifier. */
#define GOPROF_ERRNO_VERIFIER 4005
/** One past the last libgoprof error code. */
#define GOPROF_ERRNO_END 4006

/** @name Frame kinds (goprof_frame.kind, goprof_profile_frame.kind)
 * Where a frame's code lives; kept for folded `_[k]` suffixes, flame graph colours and
 * OTLP's `profile.frame.type`.
 * @{ */
#define GOPROF_FRAME_KIND_UNKNOWN 0 /**< not known */
#define GOPROF_FRAME_KIND_GO 1      /**< Go code (symbolized from the pclntab) */
#define GOPROF_FRAME_KIND_NATIVE 2  /**< native user-space code (C, cgo, libc, ...; ELF symbols) */
#define GOPROF_FRAME_KIND_KERNEL 3  /**< kernel code (/proc/kallsyms) */
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* GOPROF_COMMON_H */
