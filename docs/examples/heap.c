// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Heap profile of a Go process from the allocations its runtime samples itself, written
 * as a pprof file that `go tool pprof -sample_index=inuse_space` reads.
 *
 * usage: heap PID SECONDS OUTPUT.pb.gz
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <goprof/goprof.h>

static int heap_off(const struct goprof_process_info *proc, void *ctx)
{
	(void)ctx;
	if (proc->flags & GOPROF_PROCESS_HEAP_OFF) /* nothing in the binary reads a heap profile */
		fprintf(stderr, "pid %u: %s\n", proc->pid, proc->note);
	return 0;
}

int main(int argc, char **argv)
{
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_HEAP);
	struct goprof_session *s;
	struct goprof_profile *p;

	if (argc != 4) {
		fprintf(stderr, "usage: %s PID SECONDS OUTPUT.pb.gz\n", argv[0]);
		return 2;
	}
	s = goprof_session_new(&opts);
	if (!s || goprof_session_attach_pid(s, atoi(argv[1]), NULL) < 0) {
		fprintf(stderr, "heap: %s\n", goprof_last_error());
		goprof_session_free(s);
		return 1;
	}
	goprof_session_foreach_process(s, heap_off, NULL);
	for (int i = 0; i < 10 * atoi(argv[2]); i++) {
		usleep(100 * 1000);
		goprof_session_poll(s, 0); /* take in what arrived */
	}
	p = goprof_session_snapshot_heap(s, 0);
	if (!p || goprof_profile_write_file(p, GOPROF_FORMAT_PPROF, NULL, argv[3]) < 0)
		fprintf(stderr, "heap: %s\n", goprof_last_error());
	goprof_profile_free(p);
	goprof_session_free(s);
	return 0;
}
