/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
#ifndef GOPROF_CLI_REPORT_H
#define GOPROF_CLI_REPORT_H

struct goprof_session;

/* Writes DIR/cpu.pb.gz, cpu.folded, cpu.svg and prints the top functions; 0 or -1. */
int write_cpu_report(struct goprof_session *s, const char *dir, unsigned hz);
/* Prints each attached process: Go version, goroutine context, notes. */
void print_processes(struct goprof_session *s);

#endif
