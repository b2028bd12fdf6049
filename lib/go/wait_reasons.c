// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Per-release tables of Go's wait reasons (runtime/runtime2.go, waitReasonStrings). */
#include <stdio.h>

#include "go/go_version.h"
#include "go/wait_reasons.h"

/*
 * One table per release 1.19-1.27: measured from each toolchain's runtime2.go, 1.20 and
 * 1.25 derived (no toolchain here); the generator says which. The numbering is the order
 * of the constants, not of waitReasonStrings: Go 1.26 moved the channel reasons (chan send
 * 15 -> 20).
 */
#include "go/wait_reasons_table.h"

const struct gp_wait_reasons *gp_wait_reasons_find(const char *version)
{
	int minor;

	if (version && gp_go_minor_version(version, &minor) == 0)
		for (size_t i = 0; i < ARRAY_SIZE(tables); i++)
			if (tables[i].minor == minor)
				return &tables[i];
	return NULL;
}

const struct gp_wait_reasons *gp_wait_reasons_of(const char *version)
{
	const struct gp_wait_reasons *w = gp_wait_reasons_find(version);

	if (w)
		return w;
	return gp_err_null(-GOPROF_ERRNO_GO_VERSION,
			   "%s: the wait reasons of this Go release are not known to this libgoprof "
			   "(known: 1.19-1.27); blocking is recorded with numeric reasons",
			   version ? version : "(no version)");
}

const char *gp_wait_reason_name(const struct gp_wait_reasons *w, uint8_t reason, char *buf,
				size_t len)
{
	if (w && reason < w->nr)
		return w->names[reason];
	snprintf(buf, len, "unknown wait reason %u", reason);
	return buf;
}

bool gp_wait_reason_in_go_block_profile(const char *name)
{
	static const char *const recorded[] = {
		"chan send", "chan receive", "select", "semacquire", "sync.Cond.Wait",
		"sync.Mutex.Lock", "sync.RWMutex.RLock", "sync.RWMutex.Lock",
	};

	for (size_t i = 0; i < ARRAY_SIZE(recorded); i++)
		if (!strcmp(name, recorded[i]))
			return true;
	return false;
}
