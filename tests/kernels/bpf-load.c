// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Loads each BPF object named on the command line into the running kernel (if the whole
 * object fails, every program alone) and prints one line per program: "load OBJECT PROGRAM ok" or "... FAIL: reason".
 * The library loads only the variants the kernel supports; this shows which those are
 * (and the verifier's last words for any other) on each kernel of the matrix.
 * A program the verifier refuses (EACCES) is loaded once more with the full verifier log,
 * whose last 40 lines follow ("verifier| ...").
 * usage: bpf-load [-p] OBJECT.bpf.o...   exit 0 always (the lines are the result)
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char last[512];
/* One verifier log per program of the object being loaded (level 4: statistics only). */
#define MAX_PROGS 64
static char stats[MAX_PROGS][4096];
static int n_stats;

/* Keeps libbpf's last warning: it names the failed relocation or verifier complaint. */
static int keep_last(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	if (line[0])
		snprintf(last, sizeof(last), "%s", line);
	return 0;
}

/* The verifier's last line in log (level 4 still logs its error), or "". */
static const char *last_line(char *log)
{
	char *end = log + strlen(log), *p;

	while (end > log && end[-1] == '\n')
		*--end = '\0';
	for (p = end; p > log && p[-1] != '\n'; p--)
		;
	/* Skip the statistics lines to the complaint above them. */
	while (p > log && (!strncmp(p, "processed ", 10) || !strncmp(p, "verification time", 17) ||
			    !strncmp(p, "stack depth", 11))) {
		p[-1] = '\0';
		for (end = p - 1; end > log && end[-1] != '\n'; end--)
			;
		p = end;
	}
	return p;
}

static int load_one(const char *path, const char *name, char *log, size_t log_size, int level)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *p;
	int err;

	if (!obj)
		return -errno;
	log[0] = '\0';
	bpf_object__for_each_program(p, obj) {
		bool mine = strcmp(bpf_program__name(p), name) == 0;

		bpf_program__set_autoload(p, mine);
		if (mine) { /* a buffer of ours: libbpf does not retry with a 16 MiB one */
			bpf_program__set_log_level(p, level);
			bpf_program__set_log_buf(p, log, log_size);
		}
	}
	err = bpf_object__load(obj);
	bpf_object__close(obj);
	return err;
}

/* The last lines of the full verifier log of a program that failed: where it lost track. */
static void print_log_tail(const char *path, const char *name)
{
	static char log[4 << 20];
	int lines = 0;
	char *p;

	if (load_one(path, name, log, sizeof(log), 1) == 0 || !log[0])
		return;
	for (p = log + strlen(log); p > log && lines <= 40; p--)
		lines += p[-1] == '\n';
	for (char *line = strtok(p, "\n"); line; line = strtok(NULL, "\n"))
		printf("verifier| %s\n", line);
}

int main(int argc, char **argv)
{
	/* -p: every program alone from the start, named before it loads (to find a hang). */
	bool alone = argc > 1 && !strcmp(argv[1], "-p");

	if (alone) {
		argv++;
		argc--;
	}
	setvbuf(stdout, NULL, _IOLBF, 0); /* each line as it comes: a guest may hang later */
	libbpf_set_print(keep_last);
	for (int i = 1; i < argc; i++) {
		struct bpf_object *obj = bpf_object__open_file(argv[i], NULL);
		const char *base = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
		struct bpf_program *p;

		if (!obj) {
			printf("load %s - FAIL: open: %s\n", base, strerror(errno));
			continue;
		}
		n_stats = 0;
		/* All at once first (one BTF parse); program by program only to find a culprit.
		 * Log level 4: the verifier's statistics (its time and instructions processed). */
		bpf_object__for_each_program(p, obj) {
			bpf_program__set_log_level(p, 4);
			bpf_program__set_log_buf(p, stats[n_stats % MAX_PROGS], sizeof(stats[0]));
			stats[n_stats++ % MAX_PROGS][0] = '\0';
		}
		if (!alone && !bpf_object__load(obj)) {
			int k = 0;

			bpf_object__for_each_program(p, obj) {
				const char *v = stats[k++ % MAX_PROGS];
				const char *t = strstr(v, "verification time");
				const char *q = strstr(v, "processed");
				int usec = t ? atoi(t + strlen("verification time ")) : -1;
				int insns = q ? atoi(q + strlen("processed ")) : -1;

				printf("load %s %s ok (verifier: %d insns, %.2f s)\n", base,
				       bpf_program__name(p), insns, usec / 1e6);
			}
			bpf_object__close(obj);
			continue;
		}
		bpf_object__for_each_program(p, obj) {
			int err;

			last[0] = '\0';
			if (alone)
				printf("trying %s %s\n", base, bpf_program__name(p));
			err = load_one(argv[i], bpf_program__name(p), stats[0], sizeof(stats[0]), 4);
			if (err) {
				printf("load %s %s FAIL: %s (%s) (verifier: %s)\n", base, bpf_program__name(p),
				       strerror(-err), last, last_line(stats[0]));
				if (err == -EACCES) /* the verifier's refusal, not a missing hook */
					print_log_tail(argv[i], bpf_program__name(p));
			} else
				printf("load %s %s ok\n", base, bpf_program__name(p));
		}
		bpf_object__close(obj);
	}
	return 0;
}
