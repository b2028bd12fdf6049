// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Goroutine snapshot: every goroutine of a running Go process, read from the runtime's
 * memory from outside (no probe in the target): ID, state or wait reason, creation site
 * and stack depth, then the count per creation site.
 *
 * usage: goroutine_snapshot PID
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goprof/goprof.h>

struct site {
	char name[256];
	unsigned count;
};

struct sites {
	struct site s[64];
	unsigned n;
};

static int print_goroutine(const struct goprof_goroutine *g, void *ctx)
{
	struct sites *sites = ctx;
	unsigned i;

	/* names come from the binary: untrusted bytes (printed here as they are) */
	printf("goroutine %llu [%s] %u frames, created by %s\n", (unsigned long long)g->goid,
	       g->wait_reason[0] ? g->wait_reason : g->status == GOPROF_GSTATUS_RUNNING ? "running" :
	       "runnable", g->nr_stack, g->created_by[0] ? g->created_by : "?");
	for (i = 0; i < sites->n && strcmp(sites->s[i].name, g->created_by); i++)
		;
	if (i == sites->n && sites->n < 64)
		snprintf(sites->s[sites->n++].name, sizeof(sites->s[0].name), "%s", g->created_by);
	if (i < sites->n)
		sites->s[i].count++;
	return 0;
}

int main(int argc, char **argv)
{
	/* no feature needed for a snapshot on demand: no uprobe is installed */
	struct goprof_session *s;
	struct goprof_goroutine_snapshot *snap;
	struct goprof_goroutine_snapshot_info info = { .sz = sizeof(info) };
	struct sites sites = { .n = 0 };

	if (argc != 2) {
		fprintf(stderr, "usage: %s PID\n", argv[0]);
		return 2;
	}
	s = goprof_session_new(NULL);
	if (!s || goprof_session_attach_pid(s, atoi(argv[1]), NULL) < 0) {
		fprintf(stderr, "goroutine_snapshot: %s\n", goprof_last_error());
		goprof_session_free(s);
		return 1;
	}
	snap = goprof_session_take_goroutine_snapshot(s, atoi(argv[1]), 0);
	if (!snap) {
		fprintf(stderr, "goroutine_snapshot: %s\n", goprof_last_error());
		goprof_session_free(s);
		return 1;
	}
	goprof_goroutine_snapshot_foreach(snap, print_goroutine, &sites);
	goprof_goroutine_snapshot_info(snap, &info);
	printf("%llu goroutines read in %.2f ms (%llu read again while they changed)\n",
	       (unsigned long long)info.goroutines, info.duration_ns / 1e6,
	       (unsigned long long)info.retries);
	for (unsigned i = 0; i < sites.n; i++)
		printf("%6u created by %s\n", sites.s[i].count, sites.s[i].name[0] ? sites.s[i].name : "?");
	goprof_goroutine_snapshot_free(snap);
	goprof_session_free(s);
	return 0;
}
