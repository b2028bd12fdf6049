/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The architectures libgoprof knows: x86-64 (amd64) and arm64 (aarch64). The session
 * profiles processes of the architecture the library was built for; the symbolizer and
 * the instruction decoders (function sites) read binaries of either, whatever the host.
 */
#ifndef GOPROF_GO_ARCH_H
#define GOPROF_GO_ARCH_H

#include "internal.h"

#ifndef EM_X86_64
#define EM_X86_64 62
#endif
#ifndef EM_AARCH64
#define EM_AARCH64 183
#endif

/* The ELF machine of the processes this build of the library profiles. */
#if defined(__x86_64__)
#define GP_HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define GP_HOST_MACHINE EM_AARCH64
#else
#error "libgoprof supports x86-64 and arm64 hosts"
#endif

/* "x86-64 (amd64)", "arm64 (aarch64)", ... or "ELF machine N" (a thread-local buffer). */
GOPROF_HIDDEN const char *gp_machine_name(uint16_t machine);

/*
 * Whether the ELF file at path (its first bytes, hdr, n of them) runs on this host's
 * architecture: 0, or -ENOEXEC with the message "<what>: <path> is an arm64 (aarch64)
 * executable for arm64 (aarch64), and this libgoprof profiles x86-64 (amd64) processes:
 * ...", naming both. Files too
 * short to tell are left to the caller's other checks (0).
 */
GOPROF_HIDDEN int gp_check_machine(const char *what, const char *path, const unsigned char *hdr,
				   size_t n);

#endif
