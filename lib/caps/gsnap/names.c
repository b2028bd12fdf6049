// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* What a snapshot's addresses and wait states are called, cached per process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goprof/symbolizer.h"
#include "caps/gsnap/gs_types.h"
#include "go/wait_reasons.h"

#define NAME_LEN 256

struct sym_ctx {
	char *out;
	size_t len;
	bool with_line;
};

static int take_frame(const struct goprof_frame *f, void *ctx)
{
	struct sym_ctx *c = ctx;

	/* the physical (outermost) frame of the address names the function; the innermost
	 * gives the line of the call */
	if (f->frame_index + 1 != f->nframes)
		return 0;
	if (c->with_line && f->file && f->line)
		snprintf(c->out, c->len, "%s (%s:%u)", f->function, f->file, f->line);
	else
		snprintf(c->out, c->len, "%s", f->function);
	return 0;
}

/* "function (file:line)" of a return address (with_line), or "function" of an entry. */
const char *gs_name_of(struct gp_gsnap *g, struct proc *p, uint64_t pc, bool with_line)
{
	uint64_t key = pc << 1 | with_line, addr = with_line && pc ? pc - 1 : pc;
	char buf[NAME_LEN] = "";
	struct sym_ctx c = { buf, sizeof(buf), with_line };
	size_t i;

	if (!pc)
		return "";
	if (p->nr_names * 2 >= p->names_cap) {
		size_t cap = p->names_cap ? p->names_cap * 2 : 256;
		struct name *n = calloc(cap, sizeof(*n));

		if (!n)
			return "";
		for (size_t j = 0; j < p->names_cap; j++) {
			if (!p->names[j].s)
				continue;
			for (i = gp_hash_mix(0, p->names[j].pc) & (cap - 1); n[i].s; i = (i + 1) & (cap - 1))
				;
			n[i] = p->names[j];
		}
		free(p->names);
		p->names = n;
		p->names_cap = cap;
	}
	for (i = gp_hash_mix(0, key) & (p->names_cap - 1); p->names[i].s; i = (i + 1) & (p->names_cap - 1))
		if (p->names[i].pc == key)
			return p->names[i].s;
	goprof_symbolizer_symbolize_pid(g->sym, p->pid, &addr, 1, take_frame, &c);
	p->names[i].pc = key;
	p->names[i].s = strdup(buf);
	if (!p->names[i].s)
		return "";
	p->nr_names++;
	return p->names[i].s;
}

const char *gs_reason_of(struct proc *p, const struct gp_gsnap_g *x, char *buf, size_t len)
{
	if (x->status != 4 && x->status != 10)
		return "";
	return gp_wait_reason_name(p->rd ? gp_gsnap_proc_wait_reasons(p->rd) : NULL, x->waitreason,
				   buf, len);
}
