// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Session statistics under pressure: with a ring buffer too small for the traffic, the
 * counters must still describe the session. Exec and exit records travel through the same
 * ring buffer as samples; when one is lost, the process table must not drift.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "hard_util.h"
#include "test_common.h"

#define PROCESSES 64

static pid_t spawn_alpha(const char *ms)
{
	const char *path = hard_fixture("churn_alpha");
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDOUT_FILENO);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl(path, path, ms, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int count_live(const struct goprof_process_info *p, void *ctx)
{
	*(unsigned *)ctx += !(p->flags & GOPROF_PROCESS_EXITED);
	return 0;
}

Test(stats, full_ring_buffer_keeps_process_accounting, .timeout = 120)
{
	GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = 999, .ringbuf_kib = 4);
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s;
	pid_t pids[PROCESSES];
	unsigned live = 0;

	require_bpf_privileges();
	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_attach_exe(s, hard_fixture("churn_alpha"), NULL), 0);
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	/* No polling while they run: 4 KiB fill up with samples and process records. */
	for (int i = 0; i < PROCESSES; i++)
		pids[i] = spawn_alpha("50");
	for (int i = 0; i < PROCESSES; i++)
		cr_assert_eq(waitpid(pids[i], NULL, 0), pids[i]);
	while (goprof_session_poll(s, 20) > 0)
		;
	cr_assert_eq(goprof_session_stats(s, &st), 0);
	cr_assert_eq(goprof_session_foreach_process(s, count_live, &live), 0);
	printf("ring 4 KiB, %d processes: samples %llu delivered %llu lost %llu; exited %llu; "
	       "attached_pids %u, listed live %u\n", PROCESSES,
	       (unsigned long long)st.cpu_samples, (unsigned long long)st.samples_delivered,
	       (unsigned long long)st.lost_ringbuf_full, (unsigned long long)st.processes_exited,
	       st.attached_pids, live);
	cr_expect_gt(st.lost_ringbuf_full, 0, "nothing lost: the test did not fill the buffer");
	/* Every process has exited: none may still count as attached or listed as live. */
	cr_expect_eq(st.attached_pids, 0, "%u processes counted as attached after all exited "
		     "(their exit records were lost)", st.attached_pids);
	cr_expect_eq(live, 0, "%u exited processes listed as live", live);
	/* lost_ringbuf_full is documented as samples: samples taken = delivered + lost. */
	cr_expect_eq(st.cpu_samples, st.samples_delivered + st.lost_ringbuf_full,
		     "samples %llu != delivered %llu + lost %llu: lost process records are "
		     "counted as lost samples", (unsigned long long)st.cpu_samples,
		     (unsigned long long)st.samples_delivered,
		     (unsigned long long)st.lost_ringbuf_full);
	/* Buffer pressure: the buffer was full when polling began. */
	cr_expect_eq(st.ringbuf_bytes, 4096);
	cr_expect_geq(st.ringbuf_high_water_bytes, st.ringbuf_bytes / 2,
		      "high-water %llu of a %llu-byte buffer that overflowed",
		      (unsigned long long)st.ringbuf_high_water_bytes,
		      (unsigned long long)st.ringbuf_bytes);
	cr_expect_leq(st.ringbuf_high_water_bytes, st.ringbuf_bytes);
	/* Each process exec'd the attached executable and exited: records seen or lost. */
	cr_expect_geq(st.events_delivered + st.lost_events, PROCESSES,
		      "%llu process records delivered + %llu lost for %d processes",
		      (unsigned long long)st.events_delivered, (unsigned long long)st.lost_events,
		      PROCESSES);
	goprof_session_free(s);
}
