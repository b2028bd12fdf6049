// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Where the threads of a Go process wait in the kernel: the off-CPU profile, one line per
 * stack (the kernel function it left the CPU in, the innermost main.* function), and the
 * time of the runtime's idle threads apart.
 *
 * usage: offcpu PID SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <goprof/goprof.h>

struct totals {
	double waited_ms, idle_ms, runnable_ms;
};

static int print_stack(const struct goprof_profile_sample *s, void *ctx)
{
	struct totals *t = ctx;
	double ms = s->values[1] / 1e6; /* values: {intervals, nanoseconds} */
	const char *kernel = "?", *user = "?";

	for (uint32_t i = 0; i < s->nr_labels; i++) {
		if (!strcmp(s->labels[i]->key, "idle_in")) /* an idle runtime thread, not the program */
			t->idle_ms += ms;
		else if (!strcmp(s->labels[i]->key, "state")) /* state=runnable: waiting for a CPU */
			t->runnable_ms += ms;
		else
			continue;
		return 0;
	}
	for (uint32_t i = 0; i < s->nr_frames; i++) { /* leaf first: kernel frames, then user */
		const struct goprof_profile_frame *f = s->frames[i];

		if (f->kind == GOPROF_FRAME_KIND_KERNEL && kernel[0] == '?' &&
		    !strstr(f->function, "schedule")) /* what called the scheduler */
			kernel = f->function;
		else if (!strncmp(f->function, "main.", 5) && user[0] == '?')
			user = f->function;
	}
	t->waited_ms += ms;
	if (ms >= 1)
		printf("%9.1f ms %6lld x  %s <- %s\n", ms, (long long)s->values[0], kernel, user);
	return 0;
}

static int on_event(const struct goprof_event *ev, void *ctx)
{
	(void)ctx;
	if (ev->type == GOPROF_EVENT_OFFCPU_THROTTLED || ev->type == GOPROF_EVENT_PROBE_DETACHED)
		fprintf(stderr, "offcpu: %s\n", ev->message); /* the budget stepped in */
	return 0;
}

int main(int argc, char **argv)
{
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_OFFCPU,
		    .offcpu_min_us = 100,              /* leave out the shortest waits */
		    .offcpu_max_us = 10 * 1000 * 1000,  /* and threads parked for good */
		    .on_event = on_event,
		    /* Exact counts for a test program; with the default budget (1% of the
		     * target's CPU) a quiet target on a busy machine is sampled down. */
		    .overhead_budget_bp = 10000);
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct totals t = { 0 };
	struct goprof_session *s;
	struct goprof_profile *p;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PID SECONDS\n", argv[0]);
		return 2;
	}
	s = goprof_session_new(&opts);
	if (!s || goprof_session_attach_pid(s, atoi(argv[1]), NULL) < 0 ||
	    goprof_session_start(s) < 0) {
		fprintf(stderr, "offcpu: %s\n", goprof_last_error());
		goprof_session_free(s);
		return 1;
	}
	printf("attached\n");
	fflush(stdout);
	for (time_t end = time(NULL) + atoi(argv[2]); time(NULL) < end;)
		goprof_session_poll(s, 100); /* lets the overhead budget act */
	p = goprof_session_snapshot_offcpu(s, 0);
	if (p)
		goprof_profile_foreach_sample(p, print_stack, &t);
	goprof_session_stats(s, &st);
	printf("off CPU: %.1f ms waiting, %.1f ms runnable, %.1f ms idle Go threads; "
	       "sampling 1 in %u, %llu intervals filtered\n", t.waited_ms, t.runnable_ms,
	       t.idle_ms, st.offcpu_sample_every, (unsigned long long)st.offcpu_filtered);
	goprof_profile_free(p);
	goprof_session_free(s);
	return t.waited_ms > 0 ? 0 : 1;
}
