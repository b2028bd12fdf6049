// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Attaches a child process and expects the hello capability's event about it. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <goprof/goprof.h>

static int hellos, child;

static int on_event(const struct goprof_event *ev, void *ctx)
{
	(void)ctx;
	if (ev->type == 9999 && (int)ev->pid == child && ev->message &&
	    !strcmp(ev->message, "hello from lib/caps/hello"))
		hellos++;
	return 0;
}

int main(void)
{
	struct goprof_session_opts opts = { .sz = sizeof(opts), .on_event = on_event };
	struct goprof_session *s = goprof_session_new(&opts);
	int ret = 1;

	if (!s) {
		fprintf(stderr, "FAIL: goprof_session_new: %s\n", goprof_last_error());
		return 1;
	}
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	if (goprof_session_attach_pid(s, child, NULL))
		fprintf(stderr, "FAIL: attach: %s\n", goprof_last_error());
	else if (hellos != 1)
		fprintf(stderr, "FAIL: %d hello events for pid %d, expected 1\n", hellos, child);
	else
		ret = 0;
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	goprof_session_free(s);
	if (!ret)
		printf("the hello capability saw pid %d\n", child);
	return ret;
}
