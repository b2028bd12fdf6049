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
	bool all;           /* -a: every process, also ones started later */
	bool go_only;       /* --go-only: with -a, Go programs only */
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
		"usage: goprof record [-p PID]... [--exe PATH]... [-a [--go-only]] [-F HZ] [-d SECONDS]\n"
		"                     [-o DIR] [--max-depth N] [-U] [-- COMMAND [ARGS...]]\n"
		"\n"
		"  -p, --pid PID         profile this process (repeatable)\n"
		"  -e, --exe PATH        profile every process running PATH, also ones started later\n"
		"  -a, --all             profile every process of the machine, also ones started\n"
		"                        later (not goprof itself)\n"
		"      --go-only         with -a: Go programs only (else the others get native\n"
		"                        and kernel stacks)\n"
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
		"      --gc[=precise]    GC cycles, stop-the-world pauses and heap figures into\n"
		"                        events.jsonl, read from the runtime's memory (no probe in\n"
		"                        the target); =precise: uprobes, with each cycle's phases\n"
		"      --heap            heap allocation profile heap.pb.gz (Go's own sampling)\n"
		"      --sched[=precise] scheduling latency (runnable -> running) from the runtime's\n"
		"                        own histogram; =precise: a uprobe on every transition,\n"
		"                        by creation site with --goroutines (sched.pb.gz)\n"
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
		"Writes DIR/cpu.pb.gz (pprof), DIR/cpu.folded, DIR/cpu.svg and DIR/threads.tsv.\n"
		"\n"
		"Exit status: 0 when everything was written (and COMMAND succeeded); COMMAND's own\n"
		"status when it failed (128+N: killed by signal N); 127 when it could not be run;\n"
		"1 on goprof's own errors; 2 on a usage error; 130 when interrupted during start-up.\n");
}

/*
 * Numbers from the command line: the whole argument, in range, no sign where none makes
 * sense (strtoul reads "-5" as a huge value, and 4294967297 wraps to 1 in an unsigned).
 */
static bool parse_uint(const char *arg, unsigned long min, unsigned long max, unsigned *out)
{
	unsigned long long v;
	char *end;

	if (!*arg || *arg == '-' || *arg == '+' || *arg == ' ')
		return false;
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (*end || errno || v < min || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

/* Seconds: a finite number in [min, max] (strtod takes "nan", "inf" and hex floats). */
static bool parse_seconds(const char *arg, double min, double max, double *out)
{
	char *end;
	double v;

	if (!*arg || *arg == ' ')
		return false;
	errno = 0;
	v = strtod(arg, &end);
	if (*end || errno || !(v >= min && v <= max)) /* false for NaN too */
		return false;
	*out = v;
	return true;
}

#define MAX_SECONDS (100.0 * 365 * 86400) /* a century: longer is a typo */

/* What the recording is of, for the flame graphs' titles. */
static void describe_target(const struct record_args *a)
{
	char buf[128], comm[32] = "", path[64];
	const char *slash;
	FILE *f;

	if (a->all) {
		snprintf(buf, sizeof(buf), a->go_only ? "every Go process" : "every process");
	} else if (a->command) {
		slash = strrchr(a->command[0], '/');
		snprintf(buf, sizeof(buf), "%s", slash ? slash + 1 : a->command[0]);
	} else if (a->npids == 1 && !a->nexes) {
		snprintf(path, sizeof(path), "/proc/%d/comm", a->pids[0]);
		f = fopen(path, "r");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
		snprintf(buf, sizeof(buf), comm[0] ? "pid %d (%s)" : "pid %d", a->pids[0], comm);
	} else if (a->nexes == 1 && !a->npids) {
		slash = strrchr(a->exes[0], '/');
		snprintf(buf, sizeof(buf), "%s", slash ? slash + 1 : a->exes[0]);
	} else {
		snprintf(buf, sizeof(buf), "%d processes and %d executables", a->npids, a->nexes);
	}
	report_set_target(buf);
}

/* Long options without a short letter (letters are scarce: each branch adds some). */
enum { OPT_BLOCK = 0x100, OPT_CHANNELS, OPT_HTTP_WIRE, OPT_VERSION, OPT_GO_ONLY };

static int parse_args(int argc, char **argv, struct record_args *a)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "freq", required_argument, NULL, 'F' },
		{ "duration", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "exe", required_argument, NULL, 'e' },
		{ "all", no_argument, NULL, 'a' },
		{ "go-only", no_argument, NULL, OPT_GO_ONLY },
		{ "max-depth", required_argument, NULL, 'M' },
		{ "user-only", no_argument, NULL, 'U' },
		{ "goroutines", optional_argument, NULL, 'G' },
		{ "gc", optional_argument, NULL, 'C' },
		{ "heap", no_argument, NULL, 'H' },
		{ "runtime", no_argument, NULL, 'R' },
		{ "sched", optional_argument, NULL, 'S' },
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
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 },
	};
	unsigned pid;
	int c;

	*a = (struct record_args){ .freq_hz = 99, .out_dir = "goprof.out", .leak_age_s = 5,
				   .keep = 60 };
	opterr = 0; /* its messages would not say "goprof record" */
	while ((c = getopt_long(argc, argv, "+:p:e:F:d:o:Uha", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (a->npids == MAX_PIDS) {
				fprintf(stderr, "goprof record: at most %d -p options\n", MAX_PIDS);
				return -1;
			}
			if (!parse_uint(optarg, 1, INT32_MAX, &pid)) {
				fprintf(stderr, "goprof record: -p needs a process ID, got '%s'\n", optarg);
				return -1;
			}
			a->pids[a->npids++] = (int)pid;
			break;
		case 'F':
			if (!parse_uint(optarg, 1, UINT32_MAX, &a->freq_hz)) {
				fprintf(stderr, "goprof record: -F needs a frequency in Hz (1 to %u), got '%s'\n",
					UINT32_MAX, optarg);
				return -1;
			}
			break;
		case 'd':
			if (!parse_seconds(optarg, 0, MAX_SECONDS, &a->seconds) || a->seconds <= 0) {
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
			if (!parse_uint(optarg, 1, UINT32_MAX, &a->user_depth)) {
				fprintf(stderr, "goprof record: --max-depth needs a number of frames, got '%s'\n", optarg);
				return -1;
			}
			a->kernel_depth = a->user_depth;
			break;
		case 'U':
			a->no_kernel = true;
			break;
		case 'a':
			a->all = true;
			break;
		case OPT_GO_ONLY:
			a->go_only = true;
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
		case 'S':
			if (optarg && strcmp(optarg, "precise")) {
				fprintf(stderr, "goprof record: --%s takes no value or =precise, got '%s'\n",
					c == 'C' ? "gc" : "sched", optarg);
				return -1;
			}
			a->features |= c == 'C' ? GOPROF_FEATURE_GC : GOPROF_FEATURE_SCHED;
			if (optarg)
				a->features |= c == 'C' ? GOPROF_FEATURE_GC_PRECISE : GOPROF_FEATURE_SCHED_PRECISE;
			break;
		case 'H':
			a->features |= GOPROF_FEATURE_HEAP;
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
			if (!parse_seconds(optarg, 0, 100, &a->budget_pct) || a->budget_pct <= 0) {
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
			if (!parse_uint(optarg, 0, UINT32_MAX, c == 'm' ? &a->offcpu_min_us : &a->offcpu_max_us)) {
				fprintf(stderr, "goprof record: --offcpu-%s-us needs microseconds, got '%s'\n",
					c == 'm' ? "min" : "max", optarg);
				return -1;
			}
			a->features |= GOPROF_FEATURE_OFFCPU;
			break;
		case 'L':
			if (!parse_seconds(optarg, 0, MAX_SECONDS, &a->leak_age_s)) {
				fprintf(stderr, "goprof record: --leak-age needs seconds, got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'I':
			if (!parse_seconds(optarg, 0.1, MAX_SECONDS, &a->interval_s)) {
				fprintf(stderr, "goprof record: --interval needs seconds (at least 0.1), "
						"got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'K':
			if (!parse_uint(optarg, 0, UINT32_MAX, &a->keep)) {
				fprintf(stderr, "goprof record: --keep needs a number of windows, got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'h':
			record_usage(stdout);
			exit(0);
		case OPT_VERSION:
			print_version();
			exit(0);
		case ':':
			fprintf(stderr, "goprof record: option '%s' needs an argument\n", argv[optind - 1]);
			return -1;
		default:
			if (optopt)
				fprintf(stderr, "goprof record: unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, "goprof record: unknown option '%s'\n", argv[optind - 1]);
			fprintf(stderr, "Try 'goprof record --help'.\n");
			return -1;
		}
	}
	if (optind < argc)
		a->command = argv + optind;
	if (a->go_only && !a->all) {
		fprintf(stderr, "goprof record: --go-only goes with -a\n");
		return -1;
	}
	if (!a->npids && !a->nexes && !a->command && !a->all) {
		fprintf(stderr, "goprof record: nothing to profile: give -p PID, --exe PATH, -a or -- COMMAND\n");
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

/* The command goprof started (-- COMMAND), and how it ended. */
struct command_child {
	pid_t pid;
	int release_fd; /* writing a byte lets it exec */
	int exec_fd;	/* its exec failure (errno) arrives here; EOF when the exec worked */
	bool reaped;
	int status;	/* waitpid's, once reaped */
};

/* Is there an executable for COMMAND (as execvp would search PATH)? Its path into
 * found[len]. */
static bool command_found(const char *name, char *found, size_t len)
{
	const char *path = getenv("PATH");

	if (strchr(name, '/')) {
		snprintf(found, len, "%s", name);
		return access(name, X_OK) == 0;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(found, len, "%.*s/%s", (int)n, n ? path : ".", name);
		if (access(found, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/* The architecture an ELF machine number names, for the messages. */
static const char *machine_name(unsigned machine)
{
	return machine == 62 ? "x86-64 (amd64)" : machine == 183 ? "arm64 (aarch64)" : NULL;
}

/*
 * An ELF executable for another architecture than this goprof's: the kernel refuses it
 * (after the session loaded), or an emulator runs it and the profile shows the emulator.
 * Says so, naming both, and returns true. Anything else (a script, a short file) is for
 * exec to judge.
 */
static bool foreign_executable(const char *path)
{
#if defined(__x86_64__)
	const unsigned ours = 62;
#elif defined(__aarch64__)
	const unsigned ours = 183;
#else
	const unsigned ours = 0;
#endif
	unsigned char h[20];
	char other[32];
	const char *theirs;
	unsigned machine;
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(h, 1, sizeof(h), f) : 0;

	if (f)
		fclose(f);
	if (n < sizeof(h) || memcmp(h, "\x7f" "ELF", 4) || h[5] != 1 /* little-endian */)
		return false;
	machine = (unsigned)h[18] | (unsigned)h[19] << 8;
	if (!ours || machine == ours)
		return false;
	theirs = machine_name(machine);
	if (!theirs) {
		snprintf(other, sizeof(other), "ELF machine %u", machine);
		theirs = other;
	}
	fprintf(stderr, "goprof record: cannot profile %s: it is an executable for %s, and this "
		"goprof profiles %s processes: run a goprof built for its architecture on such a "
		"machine\n", path, theirs, machine_name(ours));
	return true;
}

/*
 * Starts COMMAND stopped at a pipe so that it is attached before it runs its first
 * instruction. A second pipe, closed by a successful exec, carries the errno of a failed one.
 */
static int spawn_held(char **command, struct command_child *c)
{
	int gate[2], status[2];
	pid_t pid;

	if (pipe(gate))
		return -1;
	if (pipe2(status, O_CLOEXEC)) {
		close(gate[0]);
		close(gate[1]);
		return -1;
	}
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char ch;
		int e;

		close(gate[1]);
		close(status[0]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (read(gate[0], &ch, 1) != 1)
			_exit(127);
		close(gate[0]);
		execvp(command[0], command);
		e = errno;
		if (write(status[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(gate[0]);
	close(status[1]);
	c->pid = pid;
	c->release_fd = gate[1];
	c->exec_fd = status[0];
	return 0;
}

/* Lets the held command exec; 0 once it runs, or the errno of its failed exec. */
static int release_command(struct command_child *c)
{
	ssize_t n;
	int e = 0;

	if (write(c->release_fd, "x", 1) != 1)
		e = errno;
	close(c->release_fd);
	c->release_fd = -1;
	do
		n = read(c->exec_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(c->exec_fd);
	c->exec_fd = -1;
	return n == sizeof(e) ? e : 0;
}

/* Still running? Reaps it (and keeps its status) once it has exited. */
static bool command_running(struct command_child *c)
{
	if (c->reaped)
		return false;
	if (waitpid(c->pid, &c->status, WNOHANG) == 0)
		return true;
	c->reaped = true;
	return false;
}

/*
 * The exit status that says the command failed (perf record does the same): its own
 * non-zero status, or 128 + the signal that killed it; 0 if it succeeded or still runs.
 */
static int command_failure(const struct command_child *c, const char *name)
{
	if (!c->pid || !c->reaped)
		return 0;
	if (WIFEXITED(c->status) && WEXITSTATUS(c->status)) {
		fprintf(stderr, "goprof record: %s exited with status %d\n", name, WEXITSTATUS(c->status));
		return WEXITSTATUS(c->status);
	}
	if (WIFSIGNALED(c->status)) {
		fprintf(stderr, "goprof record: %s was killed by signal %d (%s)\n", name,
			WTERMSIG(c->status), strsignal(WTERMSIG(c->status)));
		return 128 + WTERMSIG(c->status);
	}
	return 0;
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

static bool any_target_alive(const struct record_args *a, struct command_child *child)
{
	if (a->nexes || a->all)
		return true; /* processes of an executable (or any) may start at any time */
	for (int i = 0; i < a->npids; i++) {
		if (child->pid && a->pids[i] == child->pid) {
			if (command_running(child))
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
		char why[256];

		/* What went wrong last: the transport's errno, the receiver's answer, or ours. */
		if (st.last_status < 0)
			snprintf(why, sizeof(why), "%s", strerror(-st.last_status));
		else if (st.last_status > 0)
			snprintf(why, sizeof(why), "the receiver answered HTTP %d", st.last_status);
		else if (*goprof_last_error())
			snprintf(why, sizeof(why), "%s", goprof_last_error());
		else
			snprintf(why, sizeof(why), "%s", strerror(-err));
		fprintf(stderr, "goprof record: OTLP export to %s failed: %s (sent %llu times: the first "
			"attempt and %llu retries)\n", a->otlp_url, why, (unsigned long long)st.retries + 1,
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
	struct command_child child = { .release_fd = -1, .exec_fd = -1 };
	int rc = 1, err;
	bool window_failed = false;
	bool tty = isatty(STDERR_FILENO);
	double start, elapsed, next_tick = 0, next_alive_check = 0;
	char command_path[4096];

	if (parse_args(argc, argv, &a))
		return 2;
	describe_target(&a);
	if (a.command && !command_found(a.command[0], command_path, sizeof(command_path))) {
		fprintf(stderr, "goprof record: cannot run %s: command not found\n", a.command[0]);
		return 127;
	}
	if (a.command && foreign_executable(command_path))
		return 127;
	/* From here Ctrl-C stops: during start-up (loading BPF takes a while) too. */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
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
		if (stop_requested)
			goto interrupted;
		fprintf(stderr, "goprof record: %s\n", goprof_last_error());
		goto out;
	}
	if (a.command) {
		if (spawn_held(a.command, &child)) {
			fprintf(stderr, "goprof record: cannot start %s: %s\n", a.command[0], strerror(errno));
			goto out;
		}
		a.pids[a.npids++] = child.pid;
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
	if (a.all) {
		GOPROF_OPTS(goprof_attach_all_opts, all_opts,
			    .flags = a.go_only ? GOPROF_ATTACH_ALL_GO_ONLY : 0);

		if (goprof_session_attach_all(s, &all_opts)) {
			fprintf(stderr, "goprof record: %s\n", goprof_last_error());
			goto out;
		}
	}
	/* Say at once what a process we cannot read will lack (reduced privileges). */
	goprof_session_foreach_process(s, warn_unreadable, NULL);
	if (stop_requested)
		goto interrupted;
	if (goprof_session_start(s)) {
		if (stop_requested)
			goto interrupted;
		fprintf(stderr, "goprof record: %s\n", goprof_last_error());
		goto out;
	}
	if (stop_requested)
		goto interrupted;
	if (child.release_fd >= 0) {
		err = release_command(&child);
		if (err) {
			fprintf(stderr, "goprof record: cannot run %s: %s\n", a.command[0], strerror(err));
			rc = 127;
			goto out;
		}
	}
	start = now_s();
	while (!stop_requested) {
		elapsed = now_s() - start;
		if (a.seconds && elapsed >= a.seconds)
			break;
		/* A kill() and a read of /proc/PID/stat per target: four times a second, not at
		 * every poll (the records of the demo's features woke it 25 times a second). */
		if (elapsed >= next_alive_check) {
			next_alive_check = elapsed + 0.25;
			if (!any_target_alive(&a, &child)) {
				fprintf(stderr, "%sgoprof record: every target has exited\n", tty ? "\n" : "");
				break;
			}
		}
		/* The counters cost bpf() calls: read when shown (the progress line, and the
		 * live goroutine count once a second). */
		if ((tty || (events.out && a.features & GOPROF_FEATURE_GOROUTINES && elapsed >= next_tick)) &&
		    goprof_session_stats(s, &st) == 0 && tty) {
			if (a.seconds)
				fprintf(stderr, "\rrecording %.1f s / %.0f s: %llu samples  ", elapsed,
					a.seconds, (unsigned long long)st.cpu_samples);
			else
				fprintf(stderr, "\rrecording %.1f s (Ctrl-C stops): %llu samples  ", elapsed,
					(unsigned long long)st.cpu_samples);
		}
		if (events.out && a.features & GOPROF_FEATURE_GOROUTINES && elapsed >= next_tick) {
			/* The live goroutine count over time, once a second. */
			jsonl_begin(events.out, "goroutines_live", 0, 0);
			fprintf(events.out, ",\"elapsed_s\":%.1f,\"live\":%llu,\"created\":%llu,\"exited\":%llu}\n", elapsed,
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
	if (rc == 0 && a.command)
		rc = command_failure(&child, a.command[0]);
	goto out;
interrupted:
	fprintf(stderr, "goprof record: interrupted during start-up; nothing recorded\n");
	rc = 130;
out:
	if (child.release_fd >= 0)
		close(child.release_fd); /* the held command reads EOF and exits */
	if (child.exec_fd >= 0)
		close(child.exec_fd);
	if (child.pid > 0 && command_running(&child)) {
		kill(child.pid, SIGTERM);
		waitpid(child.pid, NULL, 0);
	}
	goprof_session_free(s);
	runtime_events_close(&events);
	window_writer_close(&win);
	safe_dir_close(&out_dir);
	free(tab.rows);
	return rc;
}
