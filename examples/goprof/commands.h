/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/* Subcommands of the goprof CLI; each returns the process exit status. */
#ifndef GOPROF_CLI_COMMANDS_H
#define GOPROF_CLI_COMMANDS_H

int cmd_record(int argc, char **argv);
/* "goprof VERSION (headers VERSION)" on standard output. */
void print_version(void);
int cmd_symbolize(int argc, char **argv);
int cmd_info(int argc, char **argv);

#endif
