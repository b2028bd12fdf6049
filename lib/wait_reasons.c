// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Per-release tables of Go's wait reasons (runtime/runtime2.go, waitReasonStrings). */
#include <stdio.h>

#include "go_offsets.h"
#include "wait_reasons.h"

/*
 * Copied in order from waitReasonStrings of each toolchain installed here (the array is
 * indexed by the waitReason constants, so its order is the numbering). 1.21 inserted the
 * sync.Mutex/RWMutex reasons in the middle; 1.22 and 1.23 only appended (1.21's 32, 1.22's
 * 37 and 1.23's 38 reasons are prefixes of one list); 1.24 is not installed here and is
 * refused.
 */
static const char *const go1_19[] = {
	"", "GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
	"dumping heap", "garbage collection", "garbage collection scan", "panicwait", "select",
	"select (no cases)", "GC assist wait", "GC sweep wait", "GC scavenge wait",
	"chan receive", "chan send", "finalizer wait", "force gc (idle)", "semacquire", "sleep",
	"sync.Cond.Wait", "timer goroutine (idle)", "trace reader (blocked)", "wait for GC cycle",
	"GC worker (idle)", "preempted", "debug call",
};

static const char *const go1_21_to_23[] = {
	"", "GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
	"dumping heap", "garbage collection", "garbage collection scan", "panicwait", "select",
	"select (no cases)", "GC assist wait", "GC sweep wait", "GC scavenge wait",
	"chan receive", "chan send", "finalizer wait", "force gc (idle)", "semacquire", "sleep",
	"sync.Cond.Wait", "sync.Mutex.Lock", "sync.RWMutex.RLock", "sync.RWMutex.Lock",
	"trace reader (blocked)", "wait for GC cycle", "GC worker (idle)", "GC worker (active)",
	"preempted", "debug call", "GC mark termination", "stopping the world",
	"flushing proc caches", "trace goroutine status", "trace proc status", "page trace flush",
	"coroutine", "GC weak to strong wait",
};

/* waitReasonChanSend is 15 and waitReasonChanReceive 14 in all of them. */
#define TABLE(m, names, n) { m, names, n, 15, 14 }

static const struct gp_wait_reasons tables[] = {
	TABLE(19, go1_19, ARRAY_SIZE(go1_19)),
	TABLE(21, go1_21_to_23, 32),
	TABLE(22, go1_21_to_23, 37),
	TABLE(23, go1_21_to_23, ARRAY_SIZE(go1_21_to_23)),
};

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
			   "(known: 1.19, 1.21-1.23); blocking is recorded with numeric reasons",
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
