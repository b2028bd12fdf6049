// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* goprof: command-line front end of libgoprof, built only on its public API. */
#include <stdio.h>
#include <string.h>

#include <goprof/goprof.h>

#include "commands.h"
#include "term_text.h"

void print_version(void)
{
	printf("goprof %s (headers %s)\n", goprof_version_string(), GOPROF_VERSION_STRING);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: goprof COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  record     profile running Go processes (see goprof record --help)\n"
		"  symbolize  resolve program counters of a binary to functions, files and lines\n"
		"  info       show a binary's Go version, pclntab and build IDs\n"
		"  version    print the library version (also --version)\n");
}

int main(int argc, char **argv)
{
	term_guard(); /* names from hostile binaries must not drive the terminal */
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "record"))
		return cmd_record(argc - 1, argv + 1);
	if (!strcmp(argv[1], "symbolize"))
		return cmd_symbolize(argc - 1, argv + 1);
	if (!strcmp(argv[1], "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		print_version();
		return 0;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "goprof: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
