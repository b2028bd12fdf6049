/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Text shown on a terminal. Function and file names, build info and error notes come from
 * the profiled binaries, which may be hostile: printed as they are, an escape sequence in
 * a symbol name would reach the terminal of the user running goprof (often root) and could
 * rewrite the screen or, on some terminals, answer back as input. term_guard() puts a
 * filter under stdout and stderr when they are terminals: every control character except
 * line feed, carriage return and tab (so ESC, the other C0 controls, DEL, and the C1
 * controls U+0080-U+009F) is shown as '?'. Output into files and pipes is left as it is
 * (the JSON and text files have their own escaping rules, docs/formats.md).
 */
#ifndef GOPROF_CLI_TERM_TEXT_H
#define GOPROF_CLI_TERM_TEXT_H

/* Filters stdout and stderr if they are terminals; call before writing to them. */
void term_guard(void);

#endif
