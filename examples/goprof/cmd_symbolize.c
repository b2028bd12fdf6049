// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * `goprof symbolize [--json] BINARY [PC ...]` and `goprof info BINARY`: the symbolizer
 * from the command line, written on the public API only.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goprof/goprof.h>

#include "commands.h"
#include "report.h"

/* Prints one PC's frames; returns 0 or a negative error. */
static int print_pc(struct goprof_binary *bin, uint64_t pc, int json)
{
	struct goprof_frame frames[128];
	int n = goprof_binary_symbolize_addr(bin, pc, frames, 128, sizeof(frames[0]));

	if (n < 0) {
		fprintf(stderr, "goprof symbolize: 0x%llx: %s\n", (unsigned long long)pc, goprof_last_error());
		n = 0; /* still print the PC, with no frames */
	}
	if (n > 128)
		n = 128;
	if (json) {
		printf("{\"pc\":\"0x%llx\",\"frames\":[", (unsigned long long)pc);
		for (int i = 0; i < n; i++) {
			printf("%s{\"function\":", i ? "," : "");
			json_string(stdout, frames[i].function);
			printf(",\"file\":");
			json_string(stdout, frames[i].file ? frames[i].file : "");
			printf(",\"line\":%u,\"inlined\":%s}", frames[i].line,
			       frames[i].flags & GOPROF_FRAME_INLINED ? "true" : "false");
		}
		printf("]}\n");
		return 0;
	}
	printf("0x%llx\n", (unsigned long long)pc);
	if (!n)
		printf("    ??\n");
	for (int i = 0; i < n; i++) {
		printf("    %s", frames[i].function);
		if (frames[i].file)
			printf(" at %s:%u", frames[i].file, frames[i].line);
		if (frames[i].flags & GOPROF_FRAME_INLINED)
			printf(" (inlined)");
		if (frames[i].kind == GOPROF_FRAME_KIND_NATIVE)
			printf(" [native +0x%llx]", (unsigned long long)(pc - frames[i].func_addr));
		printf("\n");
	}
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Lines longer than this are refused whole: no address is that long. */
#define MAX_LINE 256

/*
 * A hexadecimal address, with an optional 0x prefix and surrounding blanks. Refused: an
 * empty or blank string (not 0x0), a sign (strtoull would read "-1" as 0xffff...), more
 * than 16 digits, anything else after the digits.
 */
static int parse_pc(const char *s, uint64_t *pc)
{
	const char *digits;
	char *end;

	while (is_space(*s))
		s++;
	digits = s + (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 2 : 0);
	if (!isxdigit((unsigned char)*digits))
		return -1; /* blank, a sign, "0x" alone, or not hex */
	errno = 0;
	*pc = strtoull(digits, &end, 16);
	if (errno || end == digits)
		return -1;
	while (is_space(*end))
		end++;
	return *end ? -1 : 0;
}

/* The line without its line break, cut for a message. */
static const char *shown(const char *line, char *buf, size_t len)
{
	size_t n = strcspn(line, "\r\n");

	snprintf(buf, len, "%.*s%s", (int)(n < 64 ? n : 64), line, n > 64 ? "..." : "");
	return buf;
}

static void symbolize_usage(void)
{
	fprintf(stderr, "usage: goprof symbolize [--json] BINARY [PC ...]\n"
			"  PCs are hexadecimal link-time addresses (as go tool addr2line takes them);\n"
			"  without PC arguments they are read from standard input, one per line\n"
			"  (blank lines and lines starting with # are skipped).\n");
}

int cmd_symbolize(int argc, char **argv)
{
	struct goprof_binary *bin;
	int json = 0, i = 1, status = 0;
	uint64_t pc;

	if (i < argc && strcmp(argv[i], "--json") == 0) {
		json = 1;
		i++;
	}
	if (i < argc && (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)) {
		symbolize_usage();
		return 0;
	}
	if (i >= argc) {
		symbolize_usage();
		return 2;
	}
	bin = goprof_binary_open(argv[i], NULL);
	if (!bin) {
		fprintf(stderr, "goprof symbolize: %s\n", goprof_last_error());
		return 1;
	}
	if (i + 1 < argc) {
		for (i++; i < argc; i++) {
			if (parse_pc(argv[i], &pc)) {
				fprintf(stderr, "goprof symbolize: not a hex address: %s\n", argv[i]);
				status = 2;
				continue;
			}
			print_pc(bin, pc, json);
		}
	} else {
		char *line = NULL, buf[80];
		size_t cap = 0;
		ssize_t len;
		unsigned long lineno = 0;

		/* Whole lines, however long: a long one is refused whole, never read in pieces. */
		while ((len = getline(&line, &cap, stdin)) >= 0) {
			const char *p = line;

			lineno++;
			while (is_space(*p))
				p++;
			if (!*p || *p == '#')
				continue; /* blank lines and comments */
			if (len > MAX_LINE) {
				fprintf(stderr, "goprof symbolize: line %lu: %zd bytes, longer than an "
					"address can be (%d): refused: %s\n", lineno, len, MAX_LINE,
					shown(line, buf, sizeof(buf)));
				status = 2;
				continue;
			}
			if (parse_pc(line, &pc)) {
				fprintf(stderr, "goprof symbolize: line %lu: not a hex address: %s\n",
					lineno, shown(line, buf, sizeof(buf)));
				status = 2;
				continue;
			}
			print_pc(bin, pc, json);
		}
		free(line);
	}
	goprof_binary_free(bin);
	return status;
}

static const char *format_name(uint32_t f)
{
	switch (f) {
	case GOPROF_PCLNTAB_GO1_2: return "Go 1.2-1.15";
	case GOPROF_PCLNTAB_GO1_16: return "Go 1.16-1.17";
	case GOPROF_PCLNTAB_GO1_18: return "Go 1.18-1.19";
	case GOPROF_PCLNTAB_GO1_20: return "Go 1.20+";
	default: return "unknown";
	}
}

static const char *found_name(uint32_t f)
{
	switch (f) {
	case GOPROF_PCLNTAB_FOUND_SECTION: return "section";
	case GOPROF_PCLNTAB_FOUND_SYMBOL: return "runtime.pclntab symbols";
	case GOPROF_PCLNTAB_FOUND_SCAN: return "segment scan";
	default: return "?";
	}
}

/* One line per capability a profile of this binary can have, yes or no. */
static void print_support(struct goprof_binary *bin)
{
	static const struct {
		uint32_t feature;
		const char *name;
	} caps[] = {
		{ GOPROF_FEATURE_HEAP, "heap" },
		{ GOPROF_FEATURE_ALLOCS, "allocations" },
		{ GOPROF_FEATURE_GC, "gc" },
		{ GOPROF_FEATURE_GOROUTINES, "goroutines" },
		{ GOPROF_FEATURE_SCHED, "sched latency" },
		{ GOPROF_FEATURE_BLOCK, "blocking" },
		{ GOPROF_FEATURE_CHANNELS, "channels" },
		{ GOPROF_FEATURE_HTTP, "http (uprobes)" },
		{ GOPROF_FEATURE_HTTP_WIRE, "http (wire)" },
		{ GOPROF_FEATURE_OFFCPU, "off-cpu" },
		{ GOPROF_FEATURE_TCP, "tcp" },
	};
	struct goprof_go_support s = { .sz = sizeof(s) };

	if (goprof_binary_go_support(bin, &s) != 0)
		return;
	printf("capabilities:\n");
	printf("  %-16s %s\n", "cpu stacks", s.flags & GOPROF_GO_SUPPORT_STACKS ?
	       (s.flags & GOPROF_GO_SUPPORT_INLINE ? "yes" : "yes (no inline frames)") : "no");
	printf("  %-16s %s\n", "goroutine ids", s.flags & GOPROF_GO_SUPPORT_GOROUTINE_IDS ? "yes" : "no");
	printf("  %-16s %s\n", "pprof labels", s.flags & GOPROF_GO_SUPPORT_GOROUTINE_IDS ? "yes" : "no");
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		printf("  %-16s %s\n", caps[i].name, s.features & caps[i].feature ? "yes" : "no");
	if (s.go_minor)
		printf("runtime layout: Go 1.%u\n", s.go_minor);
	if (s.note[0])
		printf("note:           %s\n", s.note);
}

static int count_fn(const struct goprof_function *fn, void *ctx)
{
	(*(size_t *)ctx)++;
	return 0;
}

int cmd_info(int argc, char **argv)
{
	struct goprof_binary *bin;
	struct goprof_pclntab_info info = { .sz = sizeof(info) };
	uint8_t id[128];
	char buf[512];
	int n;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: goprof info BINARY\n");
		return argc == 2 ? 0 : 2;
	}
	bin = goprof_binary_open(argv[1], NULL);
	if (!bin) {
		fprintf(stderr, "goprof info: %s\n", goprof_last_error());
		return 1;
	}
	printf("path:           %s\n", goprof_binary_path(bin));
	printf("go:             %s\n", goprof_binary_is_go(bin) ? "yes" : "no (native symbols only)");
	if (goprof_binary_go_version(bin))
		printf("go version:     %s\n", goprof_binary_go_version(bin));
	if (goprof_binary_go_build_info(bin, "path", buf, sizeof(buf)) > 0)
		printf("main package:   %s\n", buf);
	if (goprof_binary_go_build_info(bin, "mod", buf, sizeof(buf)) > 0)
		printf("main module:    %s\n", buf);
	if (goprof_binary_pclntab_info(bin, &info) == 0) {
		printf("pclntab:        %s format, found by %s at 0x%llx (file offset 0x%llx, %llu bytes)\n",
		       format_name(info.format), found_name(info.found_by), (unsigned long long)info.addr,
		       (unsigned long long)info.file_offset, (unsigned long long)info.size);
		printf("functions:      %u\n", info.nfunc);
		printf("source files:   %u\n", info.nfiles);
		printf("text start:     0x%llx\n", (unsigned long long)info.text_start);
		if (info.moduledata)
			printf("moduledata:     0x%llx\n", (unsigned long long)info.moduledata);
		else
			printf("moduledata:     not found (no inline frames)\n");
	} else {
		size_t count = 0;

		goprof_binary_foreach_function(bin, count_fn, &count);
		printf("functions:      %zu (ELF symbols)\n", count);
	}
	if (goprof_binary_go_build_id(bin))
		printf("go build id:    %s\n", goprof_binary_go_build_id(bin));
	n = goprof_binary_gnu_build_id(bin, id, sizeof(id));
	if (n > 0) {
		printf("gnu build id:   ");
		for (int i = 0; i < n && i < (int)sizeof(id); i++)
			printf("%02x", id[i]);
		printf("\n");
	}
	if (goprof_binary_is_go(bin))
		print_support(bin);
	goprof_binary_free(bin);
	return 0;
}
