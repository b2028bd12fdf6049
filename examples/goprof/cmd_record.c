// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * goprof record: profiles processes given by PID, or a command it starts, for a fixed
 * duration, until Ctrl-C, or until every target has exited.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "../otlp-export/otlp_http.h"
#include "commands.h"
#include "report.h"

#define MAX_PIDS 256

#define MAX_EXES 16

struct record_args {
	int pids[MAX_PIDS];
	int npids;
	const char *exes[MAX_EXES];
	int nexes;
	unsigned freq_hz;
	unsigned user_depth, kernel_depth; /* 0: library default */
	bool no_kernel;
	uint32_t features;  /* GOPROF_FEATURE_* */
	double leak_age_s;  /* goroutines older than this are reported as possible leaks */
	unsigned offcpu_min_us, offcpu_max_us; /* --offcpu thresholds, 0: library default */
	double budget_pct;  /* overhead budget of the runtime probes, % of the targets' CPU */
	const char *otlp_url;     /* POST the CPU profile here (OTLP/HTTP), or NULL */
	const char *service_name; /* OTLP resource service.name */
	double seconds;     /* 0: until Ctrl-C or the targets exit */
	double interval_s;  /* --interval: write and reset the profiles every this often */
	unsigned keep;      /* --keep: windows kept on disk (0: all) */
	const char *out_dir;
	char **command;     /* argv after "--", or NULL */
};

struct thread_row {
	struct goprof_thread_samples t;
};

struct thread_table {
	struct thread_row *rows;
	size_t n, cap;
	uint64_t total;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void record_usage(FILE *out)
{
	fprintf(out,
		"usage: goprof record [-p PID]... [--exe PATH]... [-F HZ] [-d SECONDS] [-o DIR]\n"
		"                     [--max-depth N] [-U] [-- COMMAND [ARGS...]]\n"
		"\n"
		"  -p, --pid PID         profile this process (repeatable)\n"
		"  -e, --exe PATH        profile every process running PATH, also ones started later\n"
		"  -F, --freq HZ         CPU samples per second per CPU (default 99)\n"
		"  -d, --duration SECS   stop after SECS seconds (default: Ctrl-C or targets exit)\n"
		"  -o, --output DIR      write results under DIR (default goprof.out)\n"
		"      --max-depth N     frames per stack, user and kernel (default and max 127)\n"
		"  -U, --user-only       no kernel stacks (as bcc profile -U)\n"
		"      --goroutines[=precise]  every goroutine read from the Go runtime's memory\n"
		"                        from outside, no probe: goroutines.pb.gz, leak report,\n"
		"                        goroutine_waits.pb.gz (parked time by stack, sampled)\n"
		"                        (parked > --leak-age by site, with growth); =precise:\n"
		"                        uprobes on goroutine creation/exit instead (per process)\n"
		"      --leak-age SECS   report goroutines parked/alive longer than SECS (default 5)\n"
		"      --gc              GC cycles and stop-the-world pauses into events.jsonl\n"
		"      --heap            heap allocation profile heap.pb.gz (Go's own sampling)\n"
		"      --sched           scheduling latency (runnable -> running), sched.pb.gz\n"
		"      --runtime         --goroutines=precise --gc --heap --sched\n"
		"      --offcpu          thread off-CPU time by user and kernel stack:\n"
		"                        offcpu.pb.gz, offcpu.folded, offcpu.svg\n"
		"      --offcpu-min-us N count off-CPU intervals of at least N us (default 1)\n"
		"      --offcpu-max-us N ... and at most N us (default: no limit)\n"
		"      --tcp             TCP connects, accepts and closes into events.jsonl, and a\n"
		"                        table of the traffic per peer\n"
		"      --block           goroutine blocking by wait reason and site: block.pb.gz\n"
		"      --channels        per-channel statistics table (implies --block; probes every\n"
		"                        channel operation, under the overhead budget)\n"
		"      --http            net/http requests into events.jsonl, latency and CPU per\n"
		"                        endpoint, http.method/http.path labels in cpu.pb.gz\n"
		"      --http-wire       the same for plaintext HTTP/1 read off the sockets instead of\n"
		"                        uprobes: a fraction of the cost, no TLS or HTTP/2\n"
		"      --overhead-budget PCT  detach runtime probes costing more than PCT%% of the\n"
		"                        targets' CPU (default 1)\n"
		"      --otlp URL        also send the CPU profile, with each sample's time, to an\n"
		"                        OTLP/HTTP receiver, e.g.\n"
		"                        http://127.0.0.1:4318/v1development/profiles\n"
		"      --service NAME    service.name of the OTLP resource\n"
		"      --interval SECS   for long runs: every SECS write the CPU profile of that\n"
		"                        window (and the runtime profiles) to DIR/windows/NNNNNN/,\n"
		"                        point DIR/latest at it, log it in DIR/windows.tsv, and\n"
		"                        start the next window from an empty profile (with --otlp:\n"
		"                        send each window)\n"
		"      --keep N          windows kept on disk with --interval (default 60; 0: all)\n"
		"  -- COMMAND ARGS       start COMMAND and profile it until it exits\n"
		"\n"
		"Writes DIR/cpu.pb.gz (pprof), DIR/cpu.folded, DIR/cpu.svg and DIR/threads.tsv.\n");
}

/* Long options without a short letter (letters are scarce: each branch adds some). */
enum { OPT_BLOCK = 0x100, OPT_CHANNELS, OPT_HTTP_WIRE };

static int parse_args(int argc, char **argv, struct record_args *a)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "freq", required_argument, NULL, 'F' },
		{ "duration", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "exe", required_argument, NULL, 'e' },
		{ "max-depth", required_argument, NULL, 'M' },
		{ "user-only", no_argument, NULL, 'U' },
		{ "goroutines", optional_argument, NULL, 'G' },
		{ "gc", no_argument, NULL, 'C' },
		{ "heap", no_argument, NULL, 'H' },
		{ "runtime", no_argument, NULL, 'R' },
		{ "sched", no_argument, NULL, 'S' },
		{ "tcp", no_argument, NULL, 'T' },
		{ "block", no_argument, NULL, OPT_BLOCK },
		{ "channels", no_argument, NULL, OPT_CHANNELS },
		{ "http", no_argument, NULL, 'W' },
		{ "http-wire", no_argument, NULL, OPT_HTTP_WIRE },
		{ "overhead-budget", required_argument, NULL, 'B' },
		{ "otlp", required_argument, NULL, 'O' },
		{ "service", required_argument, NULL, 'N' },
		{ "leak-age", required_argument, NULL, 'L' },
		{ "interval", required_argument, NULL, 'I' },
		{ "keep", required_argument, NULL, 'K' },
		{ "offcpu", no_argument, NULL, 'f' },
		{ "offcpu-min-us", required_argument, NULL, 'm' },
		{ "offcpu-max-us", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*a = (struct record_args){ .freq_hz = 99, .out_dir = "goprof.out", .leak_age_s = 5,
				   .keep = 60 };
	while ((c = getopt_long(argc, argv, "+p:e:F:d:o:Uh", longopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'p':
			if (a->npids == MAX_PIDS) {
				fprintf(stderr, "goprof record: at most %d -p options\n", MAX_PIDS);
				return -1;
			}
			a->pids[a->npids++] = (int)strtol(optarg, &end, 10);
			if (*end || a->pids[a->npids - 1] <= 0) {
				fprintf(stderr, "goprof record: -p needs a process ID, got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'F':
			a->freq_hz = (unsigned)strtoul(optarg, &end, 10);
			if (*end || !a->freq_hz) {
				fprintf(stderr, "goprof record: -F needs a frequency in Hz, got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'd':
			a->seconds = strtod(optarg, &end);
			if (*end || a->seconds <= 0) {
				fprintf(stderr, "goprof record: -d needs a positive number of seconds, got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'o':
			a->out_dir = optarg;
			break;
		case 'e':
			if (a->nexes == MAX_EXES) {
				fprintf(stderr, "goprof record: at most %d --exe options\n", MAX_EXES);
				return -1;
			}
			a->exes[a->nexes++] = optarg;
			break;
		case 'M':
			a->user_depth = a->kernel_depth = (unsigned)strtoul(optarg, &end, 10);
			if (*end || !a->user_depth) {
				fprintf(stderr, "goprof record: --max-depth needs a number of frames, got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'U':
			a->no_kernel = true;
			break;
		case 'G':
			if (optarg && strcmp(optarg, "precise")) {
				fprintf(stderr, "goprof record: --goroutines takes no value or "
					"'precise', got '%s'\n", optarg);
				return -1;
			}
			/* snapshots read from outside by default; the uprobe tracker on request */
			a->features |= optarg ? GOPROF_FEATURE_GOROUTINES : GOPROF_FEATURE_GOROUTINE_SNAPSHOTS;
			break;
		case 'C':
			a->features |= GOPROF_FEATURE_GC;
			break;
		case 'H':
			a->features |= GOPROF_FEATURE_HEAP;
			break;
		case 'S':
			a->features |= GOPROF_FEATURE_SCHED;
			break;
		case 'T':
			a->features |= GOPROF_FEATURE_TCP;
			break;
		case OPT_BLOCK:
			a->features |= GOPROF_FEATURE_BLOCK;
			break;
		case OPT_CHANNELS:
			a->features |= GOPROF_FEATURE_BLOCK | GOPROF_FEATURE_CHANNELS;
			break;
		case 'W':
			a->features |= GOPROF_FEATURE_HTTP;
			break;
		case OPT_HTTP_WIRE:
			a->features |= GOPROF_FEATURE_HTTP_WIRE;
			break;
		case 'O':
			a->otlp_url = optarg;
			break;
		case 'N':
			a->service_name = optarg;
			break;
		case 'B':
			a->budget_pct = strtod(optarg, &end);
			if (*end || a->budget_pct <= 0 || a->budget_pct > 100) {
				fprintf(stderr, "goprof record: --overhead-budget needs a percentage in "
						"(0, 100], got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'R':
			a->features |= GOPROF_FEATURE_GOROUTINES | GOPROF_FEATURE_GC |
				       GOPROF_FEATURE_HEAP | GOPROF_FEATURE_SCHED;
			break;
		case 'f':
			a->features |= GOPROF_FEATURE_OFFCPU;
			break;
		case 'm':
		case 'x':
			*(c == 'm' ? &a->offcpu_min_us : &a->offcpu_max_us) =
				(unsigned)strtoul(optarg, &end, 10);
			if (*end || !*optarg) {
				fprintf(stderr, "goprof record: --offcpu-%s-us needs microseconds, got '%s'\n",
					c == 'm' ? "min" : "max", optarg);
				return -1;
			}
			a->features |= GOPROF_FEATURE_OFFCPU;
			break;
		case 'L':
			a->leak_age_s = strtod(optarg, &end);
			if (*end || a->leak_age_s < 0) {
				fprintf(stderr, "goprof record: --leak-age needs seconds, got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'I':
			a->interval_s = strtod(optarg, &end);
			if (*end || a->interval_s < 0.1) {
				fprintf(stderr, "goprof record: --interval needs seconds (at least 0.1), "
						"got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'K':
			a->keep = (unsigned)strtoul(optarg, &end, 10);
			if (*end || optarg[0] == '-') {
				fprintf(stderr, "goprof record: --keep needs a number of windows, got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'h':
			record_usage(stdout);
			exit(0);
		default:
			record_usage(stderr);
			return -1;
		}
	}
	if (optind < argc)
		a->command = argv + optind;
	if (!a->npids && !a->nexes && !a->command) {
		fprintf(stderr, "goprof record: nothing to profile: give -p PID, --exe PATH or -- COMMAND\n");
		record_usage(stderr);
		return -1;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Starts COMMAND stopped at a pipe so that it is attached before it runs its first
 * instruction; returns its PID and the write end that releases it.
 */
static int spawn_held(char **command, int *release_fd)
{
	int gate[2];
	pid_t pid;

	if (pipe(gate))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char c;

		close(gate[1]);
		if (read(gate[0], &c, 1) != 1)
			_exit(127);
		close(gate[0]);
		execvp(command[0], command);
		fprintf(stderr, "goprof record: cannot run %s: %s\n", command[0], strerror(errno));
		_exit(127);
	}
	close(gate[0]);
	*release_fd = gate[1];
	return pid;
}

/*
 * A process that has exited but not been reaped (a zombie: its parent does not wait for
 * it) still answers kill(pid, 0); /proc/PID/stat says it is dead (state Z, or X).
 */
static bool process_running(int pid)
{
	char path[64], buf[512], *paren;
	ssize_t n;
	int fd;

	if (kill(pid, 0) && errno != EPERM)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno != ENOENT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	paren = strrchr(buf, ')'); /* the name may hold anything, ')' included */
	return !paren || (paren[1] != ' ' || (paren[2] != 'Z' && paren[2] != 'X'));
}

static bool any_target_alive(const struct record_args *a, int child)
{
	if (a->nexes)
		return true; /* processes of an executable may start at any time */
	for (int i = 0; i < a->npids; i++) {
		if (a->pids[i] == child) {
			if (waitpid(child, NULL, WNOHANG) == 0)
				return true;
			continue;
		}
		if (process_running(a->pids[i]))
			return true;
	}
	return false;
}

static int warn_unreadable(const struct goprof_process_info *info, void *ctx)
{
	(void)ctx;
	if (info->flags & GOPROF_PROCESS_NO_ACCESS)
		fprintf(stderr, "goprof record: warning: process %u: %s\n", info->pid, info->note);
	return 0;
}

static int collect_thread(const struct goprof_thread_samples *t, void *ctx)
{
	struct thread_table *tab = ctx;

	if (tab->n == tab->cap) {
		size_t cap = tab->cap ? tab->cap * 2 : 64;
		struct thread_row *rows = realloc(tab->rows, cap * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		tab->rows = rows;
		tab->cap = cap;
	}
	tab->rows[tab->n++].t = *t;
	tab->total += t->samples;
	return 0;
}

static int by_samples_desc(const void *a, const void *b)
{
	const struct thread_row *x = a, *y = b;

	return x->t.samples < y->t.samples ? 1 : x->t.samples > y->t.samples ? -1 : 0;
}

/* A thread name is whatever the program set (prctl PR_SET_NAME): a tab or line break in
 * it would split the TSV row, so control characters are written as '?'. */
static void tsv_field(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static int write_threads_tsv(const struct safe_dir *dir, const struct thread_table *tab)
{
	struct safe_file sf;

	if (safe_file_begin(&sf, dir, "threads.tsv"))
		return -1;
	fprintf(sf.f, "pid\ttid\tcomm\tsamples\n");
	for (size_t i = 0; i < tab->n; i++) {
		fprintf(sf.f, "%u\t%u\t", tab->rows[i].t.pid, tab->rows[i].t.tid);
		tsv_field(sf.f, tab->rows[i].t.comm);
		fprintf(sf.f, "\t%llu\n", (unsigned long long)tab->rows[i].t.samples);
	}
	return safe_file_commit(&sf, 1);
}

static void print_summary(const struct record_args *a, const struct thread_table *tab,
			  const struct goprof_session_stats *st, double elapsed)
{
	printf("\nrecorded %.1f s at %u Hz: %llu CPU samples (%.2f CPU-seconds) in %zu threads\n",
	       elapsed, a->freq_hz, (unsigned long long)tab->total,
	       (double)tab->total / a->freq_hz, tab->n);
	printf("%8s %8s %-16s %10s %7s\n", "PID", "TID", "COMM", "SAMPLES", "SHARE");
	for (size_t i = 0; i < tab->n && i < 20; i++) {
		const struct goprof_thread_samples *t = &tab->rows[i].t;

		printf("%8u %8u %-16s %10llu %6.1f%%\n", t->pid, t->tid, t->comm,
		       (unsigned long long)t->samples,
		       tab->total ? 100.0 * t->samples / tab->total : 0.0);
	}
	if (tab->n > 20)
		printf("... %zu more threads in %s/threads.tsv\n", tab->n - 20, a->out_dir);
	printf("lost: %llu (ring buffer full), %llu (thread table full), %llu (profile); "
	       "goroutine unreadable: %llu; symbol cache %llu hits / %llu misses\n",
	       (unsigned long long)st->lost_ringbuf_full,
	       (unsigned long long)st->lost_thread_table_full,
	       (unsigned long long)st->lost_aggregation,
	       (unsigned long long)st->go_context_failed,
	       (unsigned long long)st->symbol_cache_hits,
	       (unsigned long long)st->symbol_cache_misses);
}

/* Sends a CPU profile once to the OTLP/HTTP receiver (examples/otlp-export). */
static int send_otlp(struct goprof_profile *p, void *ctx)
{
	const struct record_args *a = ctx;
	struct otlp_exporter_stats st = { 0 };
	int err;

	{
		/* The pid only when the profile is of one process. */
		GOPROF_OPTS(goprof_profile_write_opts, wo, .service_name = a->service_name,
			    .pid = a->npids == 1 && !a->nexes ? (uint32_t)a->pids[0] : 0);

		err = otlp_export_once(a->otlp_url, p, &wo, 10000, &st);
	}
	if (err) {
		fprintf(stderr, "goprof record: OTLP export to %s failed (%s, last status %d, %llu "
			"retries)\n", a->otlp_url, goprof_last_error(), st.last_status,
			(unsigned long long)st.retries);
		return -1;
	}
	if (!a->interval_s)
		printf("sent the CPU profile to %s (%llu bytes, %llu retries)\n", a->otlp_url,
		       (unsigned long long)st.bytes_sent, (unsigned long long)st.retries);
	return 0;
}

static int export_otlp(struct goprof_session *s, const struct record_args *a)
{
	struct goprof_profile *p = goprof_session_snapshot_cpu(s, 0);
	int err;

	if (!p) {
		fprintf(stderr, "goprof record: OTLP: %s\n", goprof_last_error());
		return -1;
	}
	err = send_otlp(p, (void *)a);
	goprof_profile_free(p);
	return err;
}

int cmd_record(int argc, char **argv)
{
	struct record_args a;
	struct goprof_session *s;
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct thread_table tab = { 0 };
	struct runtime_events events = { 0 };
	struct window_writer win = { .windows = { .fd = -1 } };
	struct safe_dir out_dir = { .fd = -1 };
	int child = 0, release_fd = -1, rc = 1, err;
	bool window_failed = false;
	bool tty = isatty(STDERR_FILENO);
	double start, elapsed, next_tick = 0;

	if (parse_args(argc, argv, &a))
		return 2;
	/* Opened once: every output file is created relative to it (safe_output.h). */
	if (safe_dir_open(&out_dir, a.out_dir))
		return 1;
	if (a.features && runtime_events_open(&events, &out_dir)) {
		safe_dir_close(&out_dir);
		return 1;
	}
	if (a.interval_s && window_writer_open(&win, &out_dir, a.interval_s, a.keep, a.features)) {
		runtime_events_close(&events);
		safe_dir_close(&out_dir);
		return 1;
	}
	GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = a.freq_hz,
		    .user_stack_depth = a.user_depth,
		    .kernel_stack_depth = a.no_kernel ? GOPROF_NO_KERNEL_STACKS : a.kernel_depth,
		    .features = a.features, .on_event = runtime_event, .ctx = &events,
		    .overhead_budget_bp = (uint32_t)(a.budget_pct * 100),
		    /* OTLP can carry each sample's time (pprof cannot): keep them for it. */
		    .cpu_profile_flags = a.otlp_url ? GOPROF_CPU_PROFILE_TIMESTAMPS : 0,
		    .offcpu_min_us = a.offcpu_min_us, .offcpu_max_us = a.offcpu_max_us,
		    .goroutine_leak_age_ms = a.leak_age_s > 0 ? (uint32_t)(a.leak_age_s * 1000) : 1);
	s = goprof_session_new(&opts);
	if (!s) {
		fprintf(stderr, "goprof record: %s\n", goprof_last_error());
		goto out;
	}
	if (a.command) {
		child = spawn_held(a.command, &release_fd);
		if (child < 0) {
			fprintf(stderr, "goprof record: cannot start %s: %s\n", a.command[0], strerror(errno));
			goto out;
		}
		a.pids[a.npids++] = child;
	}
	for (int i = 0; i < a.npids; i++) {
		err = goprof_session_attach_pid(s, a.pids[i], NULL);
		if (err) {
			fprintf(stderr, "goprof record: %s\n", goprof_last_error());
			goto out;
		}
	}
	for (int i = 0; i < a.nexes; i++) {
		if (goprof_session_attach_exe(s, a.exes[i], NULL)) {
			fprintf(stderr, "goprof record: %s\n", goprof_last_error());
			goto out;
		}
	}
	/* Say at once what a process we cannot read will lack (reduced privileges). */
	goprof_session_foreach_process(s, warn_unreadable, NULL);
	if (goprof_session_start(s)) {
		fprintf(stderr, "goprof record: %s\n", goprof_last_error());
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (release_fd >= 0) {
		if (write(release_fd, "x", 1) != 1)
			perror("goprof record: releasing the command");
		close(release_fd);
		release_fd = -1;
	}
	start = now_s();
	while (!stop_requested) {
		elapsed = now_s() - start;
		if (a.seconds && elapsed >= a.seconds)
			break;
		if (!any_target_alive(&a, child)) {
			fprintf(stderr, "%sgoprof record: every target has exited\n", tty ? "\n" : "");
			break;
		}
		if (goprof_session_stats(s, &st) == 0 && tty)
			fprintf(stderr, "\rrecording %.1f s%s%.0f s: %llu samples  ", elapsed,
				a.seconds ? " / " : "", a.seconds, (unsigned long long)st.cpu_samples);
		if (events.out && a.features & GOPROF_FEATURE_GOROUTINES && elapsed >= next_tick) {
			/* The live goroutine count over time, once a second. */
			fprintf(events.out, "{\"type\":\"goroutines_live\",\"elapsed_s\":%.1f,"
				"\"live\":%llu,\"created\":%llu,\"exited\":%llu}\n", elapsed,
				(unsigned long long)st.goroutines_live,
				(unsigned long long)st.goroutines_created,
				(unsigned long long)st.goroutines_exited);
			next_tick += 1.0;
		}
		if (a.interval_s && elapsed >= win.next_s &&
		    window_write(&win, s, elapsed, a.otlp_url ? send_otlp : NULL, &a))
			window_failed = true; /* reported; the recording goes on */
		goprof_session_poll(s, 100);
	}
	elapsed = now_s() - start;
	goprof_session_stop(s);
	while (goprof_session_poll(s, 0) > 0)
		; /* take in what is still in the ring buffer */
	if (tty)
		fputc('\n', stderr);
	if (goprof_session_foreach_thread(s, collect_thread, &tab) < 0) {
		fprintf(stderr, "goprof record: reading thread counts: %s\n", goprof_last_error());
		goto out;
	}
	goprof_session_stats(s, &st);
	if (tab.n) /* qsort(NULL, 0, ...) is undefined */
		qsort(tab.rows, tab.n, sizeof(*tab.rows), by_samples_desc);
	print_processes(s);
	print_summary(&a, &tab, &st, elapsed);
	if (a.interval_s) {
		/* The last, partial window; the summary shows it. */
		int werr = window_write(&win, s, elapsed, a.otlp_url ? send_otlp : NULL, &a);

		if (win.last_cpu) {
			printf("\nlast window (%06u, %u written, %llu samples in all):", win.seq,
			       win.seq - win.first_seq + 1, (unsigned long long)win.samples);
			print_top_functions(win.last_cpu, a.freq_hz);
		}
		printf("wrote %u windows to %s/windows (newest: %s/latest), index %s/windows.tsv\n",
		       win.seq + 1 - win.first_seq, a.out_dir, a.out_dir, a.out_dir);
		if (write_threads_tsv(&out_dir, &tab) == 0 && !werr && !window_failed)
			rc = 0;
	} else if (write_threads_tsv(&out_dir, &tab) == 0 &&
		   write_cpu_report(s, &out_dir, a.freq_hz) == 0) {
		rc = 0;
	}
	if (a.features && write_runtime_report(s, &out_dir, a.features, &events,
					       (uint64_t)(a.leak_age_s * 1e9)))
		rc = 1;
	if (a.features & GOPROF_FEATURE_OFFCPU) {
		print_offcpu_stats(&st);
		if (write_offcpu_report(s, &out_dir))
			rc = 1;
	}
	if (a.features & GOPROF_FEATURE_TCP && write_tcp_report(s, events.out))
		rc = 1;
	if (a.features & GOPROF_FEATURE_BLOCK &&
	    write_block_report(s, &out_dir, a.features, events.out))
		rc = 1;
	if (a.features & (GOPROF_FEATURE_HTTP | GOPROF_FEATURE_HTTP_WIRE) && write_http_report(s))
		rc = 1;
	if (a.otlp_url && !a.interval_s && export_otlp(s, &a))
		rc = 1;
	goprof_session_stats(s, &st);
	print_session_stats(stdout, &st);
out:
	if (release_fd >= 0)
		close(release_fd);
	if (child > 0) {
		if (!any_target_alive(&a, child)) {
			/* already reaped by any_target_alive */
		} else {
			kill(child, SIGTERM);
			waitpid(child, NULL, 0);
		}
	}
	goprof_session_free(s);
	runtime_events_close(&events);
	window_writer_close(&win);
	safe_dir_close(&out_dir);
	free(tab.rows);
	return rc;
}
