// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Every capability that implements the interface of capability.h, in the order the
 * session creates them and hands them records. A new capability is one line here.
 */
#include "caps/block/block.h"
#include "caps/cpu/cpu.h"
#include "caps/gc/gc.h"
#include "caps/goroutines/cap.h"
#include "caps/heap/heap.h"
#include "caps/http/http.h"
#include "caps/http_wire/http_wire.h"
#include "caps/offcpu/offcpu.h"
#include "caps/rtstats/rtstats.h"
#include "caps/tcp/tcp.h"
#include "caps/gsnap/cap.h"

const struct gp_cap_ops *const gp_capabilities[] = {
	&gp_cap_goroutines,
	&gp_cap_offcpu,
	&gp_cap_rtstats,
	&gp_cap_tcp,
	&gp_cap_gsnap,
	&gp_cap_http,
	&gp_cap_http_wire, /* hands its requests to http */
	&gp_cap_heap,
	&gp_cap_allocs,
	&gp_cap_gc_precise,
	&gp_cap_block,
	&gp_cap_channels, /* after block: it needs block's probes */
	&gp_cap_cpu,      /* last: the others see a sample before the sample callback */
	NULL,
};
