// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * goprof-otlp-export: profiles a Go process and ships its CPU profile to an OpenTelemetry
 * Collector over OTLP/HTTP, one ExportProfilesServiceRequest per interval.
 *
 *   goprof-otlp-export --pid PID [--url http://127.0.0.1:4318/v1development/profiles]
 *                      [--interval-ms 10000] [--duration-ms 0] [--service NAME]
 *                      [--hz 19] [--queue 16] [--retries 5] [--backoff-ms 200] [--no-gzip]
 *                      [--once] [--threads]
 *
 * The profiler never waits for the network: snapshots go into the exporter's bounded
 * queue, which drops (and counts) what it cannot hold. Ends when the process exits, at
 * --duration-ms, or on SIGINT/SIGTERM; then flushes for up to 5 s and prints its counts
 * as one line: "export: enqueued N sent N dropped N failed N retries N bytes N".
 * --once: profile until the process exits or --duration-ms, then send one request with
 * otlp_export_once() (what a command-line recorder does).
 * --threads: samples keep their thread (OTLP thread.id and thread.name; more samples).
 * Every sample's time is sent (Sample.timestamps_unix_nano).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <goprof/goprof.h>

#include "otlp_http.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True once the process has exited: gone, or a zombie its parent has not reaped yet. */
static int process_gone(int pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	if (kill(pid, 0) && errno == ESRCH)
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the state follows the command name, which may hold spaces */
	return !p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X';
}

static int usage(void)
{
	fprintf(stderr, "usage: goprof-otlp-export --pid PID [--url URL] [--interval-ms MS] "
			"[--duration-ms MS] [--service NAME] [--hz HZ] [--queue N] [--retries N] "
			"[--backoff-ms MS] [--no-gzip] [--once] [--threads]\n");
	return 2;
}

/* Takes the profile of the last interval and queues it; the session keeps sampling. */
static void export_interval(struct goprof_session *s, struct otlp_exporter *x,
			    const struct goprof_profile_write_opts *wo)
{
	struct goprof_profile *p = goprof_session_snapshot_cpu(s, GOPROF_SNAPSHOT_RESET);
	struct otlp_buf buf = { 0 };
	int err;

	if (!p) {
		fprintf(stderr, "snapshot: %s\n", goprof_last_error());
		return;
	}
	err = goprof_profile_write(p, GOPROF_FORMAT_OTLP, wo, otlp_buf_write, &buf);
	if (err)
		fprintf(stderr, "encode: %s\n", goprof_last_error());
	else if (otlp_exporter_enqueue(x, buf.data, buf.len) == -ENOBUFS)
		fprintf(stderr, "export: queue full, profile dropped\n");
	otlp_buf_free(&buf);
	goprof_profile_free(p);
}

/* --once: one profile for the whole run, one request. */
static int record_once(struct goprof_session *s, const char *url,
		       const struct goprof_profile_write_opts *wo, long long duration)
{
	long long start = now_ms();
	struct otlp_exporter_stats st = { 0 };
	struct goprof_profile *p;
	int err;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stopping && (!duration || now_ms() - start < duration) && !process_gone((int)wo->pid))
		goprof_session_poll(s, 50);
	while (goprof_session_poll(s, 0) > 0)
		;
	p = goprof_session_snapshot_cpu(s, 0);
	goprof_session_free(s);
	if (!p) {
		fprintf(stderr, "snapshot: %s\n", goprof_last_error());
		return 1;
	}
	err = otlp_export_once(url, p, wo, 10000, &st);
	goprof_profile_free(p);
	printf("export: enqueued %llu sent %llu dropped %llu failed %llu retries %llu bytes %llu "
	       "last_status %d\n",
	       (unsigned long long)st.enqueued, (unsigned long long)st.sent,
	       (unsigned long long)st.dropped, (unsigned long long)st.failed,
	       (unsigned long long)st.retries, (unsigned long long)st.bytes_sent, st.last_status);
	if (err)
		fprintf(stderr, "export: %s\n", strerror(-err));
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *url = "http://127.0.0.1:4318/v1development/profiles", *service = NULL;
	long long interval = 10000, duration = 0, start, next;
	struct otlp_exporter_opts xo = { .gzip = 1 };
	struct otlp_exporter_stats st;
	struct otlp_exporter *x;
	struct goprof_session *s;
	unsigned hz = 19;
	int pid = 0, i, ret = 0, once = 0;
	uint32_t cpu_flags = GOPROF_CPU_PROFILE_TIMESTAMPS;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--no-gzip")) {
			xo.gzip = 0;
			continue;
		}
		if (!strcmp(a, "--once")) {
			once = 1;
			continue;
		}
		if (!strcmp(a, "--threads")) {
			cpu_flags |= GOPROF_CPU_PROFILE_THREADS;
			continue;
		}
		if (!v)
			return usage();
		i++;
		if (!strcmp(a, "--pid"))
			pid = atoi(v);
		else if (!strcmp(a, "--url"))
			url = v;
		else if (!strcmp(a, "--interval-ms"))
			interval = atoll(v);
		else if (!strcmp(a, "--duration-ms"))
			duration = atoll(v);
		else if (!strcmp(a, "--service"))
			service = v;
		else if (!strcmp(a, "--hz"))
			hz = (unsigned)atoi(v);
		else if (!strcmp(a, "--queue"))
			xo.queue_len = (unsigned)atoi(v);
		else if (!strcmp(a, "--retries"))
			xo.max_retries = (unsigned)atoi(v);
		else if (!strcmp(a, "--backoff-ms"))
			xo.backoff_ms = (unsigned)atoi(v);
		else
			return usage();
	}
	if (pid <= 0 || interval <= 0)
		return usage();

	{
		GOPROF_OPTS(goprof_session_opts, so, .cpu_freq_hz = hz, .cpu_profile_flags = cpu_flags);
		GOPROF_OPTS(goprof_profile_write_opts, wo, .service_name = service, .pid = pid);

		start = now_ms();
		s = goprof_session_new(&so);
		if (!s || goprof_session_start(s) || goprof_session_attach_pid(s, pid, NULL)) {
			fprintf(stderr, "goprof: %s\n", goprof_last_error());
			goprof_session_free(s);
			return 1;
		}
		if (once) {
			printf("recording pid %d for %s (session ready in %lld ms)\n", pid, url,
			       now_ms() - start);
			fflush(stdout);
			return record_once(s, url, &wo, duration);
		}
		x = otlp_exporter_new(url, &xo);
		if (!x) {
			fprintf(stderr, "exporter: %s\n", strerror(errno));
			goprof_session_free(s);
			return 1;
		}
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		printf("exporting pid %d to %s every %lld ms (session ready in %lld ms)\n", pid, url,
		       interval, now_ms() - start);
		fflush(stdout);
		start = now_ms();
		next = start + interval;
		while (!stopping && (!duration || now_ms() - start < duration)) {
			if (goprof_session_poll(s, 50) < 0) {
				fprintf(stderr, "poll: %s\n", goprof_last_error());
				ret = 1;
				break;
			}
			if (now_ms() >= next) {
				export_interval(s, x, &wo);
				next += interval;
			}
			if (process_gone(pid))
				break; /* the process exited: send what it left */
		}
		while (goprof_session_poll(s, 0) > 0)
			;
		export_interval(s, x, &wo);
	}
	if (otlp_exporter_flush(x, 5000))
		fprintf(stderr, "export: flush timed out\n");
	otlp_exporter_get_stats(x, &st);
	otlp_exporter_free(x);
	goprof_session_free(s);
	printf("export: enqueued %llu sent %llu dropped %llu failed %llu retries %llu bytes %llu "
	       "last_status %d\n",
	       (unsigned long long)st.enqueued, (unsigned long long)st.sent,
	       (unsigned long long)st.dropped, (unsigned long long)st.failed,
	       (unsigned long long)st.retries, (unsigned long long)st.bytes_sent, st.last_status);
	return ret;
}
