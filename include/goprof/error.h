/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/**
 * @file error.h
 * @brief Error messages: errno values and libgoprof's own codes as text, and the
 *        calling thread's description of the last failure.
 */
#ifndef GOPROF_ERROR_H
#define GOPROF_ERROR_H

#include <goprof/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Describes an error code.
 *
 * @param err  an errno value or a GOPROF_ERRNO_* code, negative or positive.
 * @param buf  destination, always NUL-terminated when len > 0.
 * @param len  size of buf in bytes.
 * @return 0, or -ERANGE if the text was truncated, or -EINVAL if buf is NULL or len is 0.
 * @note Thread-safe.
 */
GOPROF_API int goprof_strerror(int err, char *buf, size_t len);

/**
 * Returns the message recorded by the last libgoprof call on this thread that failed:
 * what failed, why, and what to do ("perf_event_open: permission denied: needs
 * CAP_PERFMON and CAP_BPF, or root"). Returns "" if no call failed since the last
 * successful one that clears it.
 *
 * @return a thread-local string, valid until the next libgoprof call on this thread.
 * @note Thread-safe: each thread has its own message.
 */
GOPROF_API const char *goprof_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* GOPROF_ERROR_H */
