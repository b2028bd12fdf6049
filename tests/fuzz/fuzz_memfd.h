/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/* For fuzz targets whose parser reads a file: the input as an in-memory file. */
#ifndef GOPROF_FUZZ_MEMFD_H
#define GOPROF_FUZZ_MEMFD_H

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* Writes data to a new memfd; fills path with its /proc/self/fd name. -1 on failure. */
static inline int fuzz_memfd(const uint8_t *data, size_t size, char *path, size_t len)
{
	int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);

		if (n <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

#endif
