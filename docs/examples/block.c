// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Where the goroutines of a Go process wait: parked time by wait reason ("chan send",
 * "sync.Mutex.Lock", "select", ...) from the blocking profile, then its channels.
 *
 * usage: block PID SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <goprof/goprof.h>

#define MAX_REASONS 64

struct reasons {
	int n;
	struct { const char *name; long long count, ns; } r[MAX_REASONS];
};

static int add_sample(const struct goprof_profile_sample *s, void *ctx)
{
	struct reasons *rs = ctx;
	const char *reason = "?";
	int i;

	for (uint32_t l = 0; l < s->nr_labels; l++)
		if (!strcmp(s->labels[l]->key, "wait_reason"))
			reason = s->labels[l]->str; /* owned by the profile: valid until it is freed */
	for (i = 0; i < rs->n && strcmp(rs->r[i].name, reason); i++)
		;
	if (i == MAX_REASONS)
		return 0;
	rs->n += i == rs->n;
	rs->r[i].name = reason;
	rs->r[i].count += s->values[0]; /* values: {contentions, delay nanoseconds} */
	rs->r[i].ns += s->values[1];
	return 0;
}

static int print_channel(const struct goprof_channel_stats *c, void *ctx)
{
	(void)ctx;
	if (c->blocked_sends + c->blocked_recvs)
		printf("chan cap %u at %s: %llu sends, %llu recvs, %llu blocked, "
		       "send p90 <= %.2f ms, recv p90 <= %.2f ms\n", c->capacity, c->site,
		       (unsigned long long)c->sends, (unsigned long long)c->recvs,
		       (unsigned long long)(c->blocked_sends + c->blocked_recvs),
		       c->send_p90_ns / 1e6, c->recv_p90_ns / 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	GOPROF_OPTS(goprof_session_opts, opts,
		    .features = GOPROF_FEATURE_BLOCK | GOPROF_FEATURE_CHANNELS,
		    /* A test program that parks thousands of times a second: see every park.
		     * In production keep the default budget (1%), which detaches the probes
		     * from such programs with a GOPROF_EVENT_PROBE_DETACHED event. */
		    .overhead_budget_bp = 10000);
	struct reasons rs = { 0 };
	struct goprof_session *s;
	struct goprof_profile *p;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PID SECONDS\n", argv[0]);
		return 2;
	}
	s = goprof_session_new(&opts);
	if (!s || goprof_session_attach_pid(s, atoi(argv[1]), NULL) < 0 ||
	    goprof_session_start(s) < 0) {
		fprintf(stderr, "block: %s\n", goprof_last_error());
		goprof_session_free(s);
		return 1;
	}
	printf("attached\n");
	fflush(stdout);
	for (time_t end = time(NULL) + atoi(argv[2]); time(NULL) < end;)
		goprof_session_poll(s, 100); /* the blocks arrive through the ring buffer */
	p = goprof_session_snapshot_block(s, 0);
	if (p)
		goprof_profile_foreach_sample(p, add_sample, &rs);
	for (int i = 0; i < rs.n; i++)
		printf("%-20s %8lld blocks %10.1f ms\n", rs.r[i].name, rs.r[i].count, rs.r[i].ns / 1e6);
	goprof_session_foreach_channel(s, print_channel, NULL);
	goprof_profile_free(p);
	goprof_session_free(s);
	return rs.n ? 0 : 1;
}
