// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * GC cycles and stop-the-world pauses of a Go process, as they happen, then a summary.
 *
 * usage: gc PID SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <goprof/goprof.h>

static int on_event(const struct goprof_event *ev, void *ctx)
{
	(void)ctx;
	if (ev->type != GOPROF_EVENT_GC_CYCLE)
		return 0;
	if (ev->gc_flags & GOPROF_GC_FROM_MEMORY) /* the default: read from the runtime's memory */
		printf("pid %u GC #%llu%s: stop-the-world %.3f ms\n", ev->pid,
		       (unsigned long long)ev->gc_cycle,
		       ev->gc_trigger == GOPROF_GC_TRIGGER_CYCLE ? " (runtime.GC)" : "",
		       ev->gc_pause_ns / 1e6);
	else /* GOPROF_FEATURE_GC_PRECISE */
		printf("pid %u GC #%llu: pauses %.3f + %.3f ms, mark %.3f ms\n", ev->pid,
		       (unsigned long long)ev->gc_cycle, ev->gc_sweep_term_pause_ns / 1e6,
		       ev->gc_mark_term_pause_ns / 1e6, ev->gc_mark_ns / 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_GC, .on_event = on_event);
	struct goprof_gc_stats st = { .sz = sizeof(st) };
	struct goprof_session *s;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PID SECONDS\n", argv[0]);
		return 2;
	}
	s = goprof_session_new(&opts);
	if (!s || goprof_session_attach_pid(s, atoi(argv[1]), NULL) < 0) {
		fprintf(stderr, "gc: %s\n", goprof_last_error());
		goprof_session_free(s);
		return 1;
	}
	for (int i = 0; i < 10 * atoi(argv[2]); i++) {
		usleep(100 * 1000);
		goprof_session_poll(s, 0); /* on_event runs from here */
	}
	if (goprof_session_gc_stats(s, 0, &st) == 0)
		printf("%llu cycles, pause p50 %.3f ms, p99 %.3f ms, max %.3f ms; heap %.1f MiB in "
		       "use, goal %.1f MiB\n", (unsigned long long)st.cycles, st.pause_p50_ns / 1e6,
		       st.pause_p99_ns / 1e6, st.pause_max_ns / 1e6, st.heap_inuse_bytes / 1048576.0,
		       st.heap_goal_bytes / 1048576.0);
	goprof_session_free(s);
	return 0;
}
