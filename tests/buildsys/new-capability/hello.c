// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * A trivial capability, added to a copy of the tree by run-buildsys-test new-capability
 * to show what a capability takes: this folder and one line in lib/caps/meson.build.
 * It says hello, through the host's event callback, for every process the session follows.
 */
#include <stdlib.h>

#include "core/capability.h"

#define HELLO_EVENT 9999

struct hello {
	const struct gp_host *h;
};

static bool wanted(uint32_t features)
{
	(void)features;
	return true;
}

static void *create(const struct gp_host *h)
{
	struct hello *c = calloc(1, sizeof(*c));

	if (c)
		c->h = h;
	return c;
}

static void destroy(void *cap)
{
	free(cap);
}

static void process_added(void *cap, const struct gp_process_view *p)
{
	struct hello *c = cap;
	struct goprof_event ev = { .sz = sizeof(ev), .type = HELLO_EVENT, .pid = p->pid,
				   .message = "hello from lib/caps/hello" };

	c->h->emit(c->h->session, &ev);
}

const struct gp_cap_ops gp_cap_hello = {
	.name = "hello",
	.wanted = wanted,
	.create = create,
	.destroy = destroy,
	.process_added = process_added,
};
