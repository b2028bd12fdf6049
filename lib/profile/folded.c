// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Folded stacks (Brendan Gregg's format, read by flamegraph.pl, inferno, speedscope):
 * one "comm;outermost;...;leaf count" line per distinct path, sorted like
 * flamegraph.pl's input, kernel frames suffixed "_[k]".
 */
#include <inttypes.h>
#include <stdlib.h>

#include "profile/encode.h"
#include "profile/stacktree.h"
#include "profile/utf8.h"

/* Writes text of a comment line: printable ASCII only, anything else as '?'. */
static void put_text(struct gp_out *o, const char *s)
{
	for (; *s; s++)
		gp_out_write(o, (unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f ? s : "?", 1);
}

/* Writes a frame name; ';' separates frames and a line break ends a record, so neither
 * may appear inside a name: ';' becomes ':', control characters '?', and each byte of
 * invalid UTF-8 U+FFFD (utf8.h), so that the file is UTF-8 text whatever the names. */
static void put_name(struct gp_out *o, const struct gp_tnode *n)
{
	const char *s = n->name, *run = s;

	while (*s) {
		unsigned char ch = (unsigned char)*s;
		size_t len = gp_utf8_len((const unsigned char *)s);

		if (len && ch != ';' && ch >= 0x20 && ch != 0x7f) {
			s += len;
			continue;
		}
		gp_out_write(o, run, (size_t)(s - run));
		if (!len)
			gp_out_puts(o, GP_UTF8_REPLACEMENT);
		else
			gp_out_write(o, ch == ';' ? ":" : "?", 1);
		run = ++s;
	}
	gp_out_write(o, run, (size_t)(s - run));
	if (n->kind == GOPROF_FRAME_KIND_KERNEL)
		gp_out_write(o, "_[k]", 4);
}

int gp_encode_folded(const struct goprof_profile *p, const struct gp_write_cfg *cfg,
		     struct gp_out *o)
{
	struct gp_stacktree t;
	uint32_t *path, node, d;
	int err;

	err = gp_stacktree_build(&t, p, cfg->value_index);
	if (err)
		return gp_out_fail(o, err);
	path = calloc((size_t)t.max_depth + 1, sizeof(*path));
	if (!path) {
		gp_stacktree_free(&t);
		return gp_out_fail(o, gp_err(-ENOMEM, "folded: out of memory"));
	}
	if (cfg->flags & GOPROF_WRITE_FOLDED_UNIT) {
		const char *type = gp_str(p, p->type_ids[cfg->value_index]);
		const char *unit = gp_str(p, p->unit_ids[cfg->value_index]);

		/* Names from a profile read from a file are untrusted: no line break in them. */
		gp_out_puts(o, "# goprof folded stacks: ");
		put_text(o, type);
		gp_out_puts(o, " in ");
		put_text(o, *unit ? unit : "count");
		gp_out_puts(o, " (flamegraph.pl --countname=");
		put_text(o, *unit ? unit : "count");
		gp_out_puts(o, ")\n");
	}
	/* A sample with no frames and no process name still counts: a folded line needs a
	 * frame, so it is shown as "[unknown]", like other frames we know nothing about. */
	if (t.nodes[0].self > 0)
		gp_out_printf(o, "[unknown] %" PRId64 "\n", t.nodes[0].self);
	/* Pre-order walk without recursion (stacks can be thousands of frames deep). */
	node = t.nodes[0].first_child;
	while (node && !o->err) {
		const struct gp_tnode *n = &t.nodes[node];

		path[n->depth] = node;
		if (n->self > 0) {
			for (d = 1; d <= n->depth; d++) {
				if (d > 1)
					gp_out_write(o, ";", 1);
				put_name(o, &t.nodes[path[d]]);
			}
			gp_out_printf(o, " %" PRId64 "\n", n->self);
		}
		if (n->first_child) {
			node = n->first_child;
			continue;
		}
		while (node && !t.nodes[node].next_sibling)
			node = t.nodes[node].parent;
		if (node)
			node = t.nodes[node].next_sibling;
	}
	free(path);
	gp_stacktree_free(&t);
	return o->err;
}
