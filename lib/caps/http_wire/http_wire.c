// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Loading the wire HTTP tracer and decoding its records (see http_wire.h). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>

#include "core/bpf_load.h"
#include "core/budget_window.h"
#include "core/bpf_maps.h"
#include "goprof/error.h"
#include "caps/http_wire/http_head.h"
#include "caps/http/http.h"
#include "caps/http_wire/http_wire.h"
#include "http_wire.skel.h"

/* A set of hooks the tracer can run on (see lib/caps/http_wire/http_wire.bpf.c). */
struct wire_hooks {
	const char *name;
	const char *described; /* for messages */
	const char *kernel_type; /* in the kernel's BTF when the kernel has them; NULL: always */
};

static const struct wire_hooks hook_sets[] = {
	{ "sockets", "tracepoints sock:sock_recv_length, sock:sock_send_length and "
		     "sock:inet_sock_set_state", "btf_trace_sock_recv_length" },
	{ "syscalls", "tracepoints syscalls:sys_exit_read, sys_exit_write and sys_enter_close "
		      "(they need CONFIG_FTRACE_SYSCALLS and a readable tracefs)", NULL },
};

struct gp_http_wire {
	const struct gp_host *host;
	uint64_t judged_ns; /* CLOCK_MONOTONIC of the last budget check */
	struct http_wire_bpf *skel;
	const struct wire_hooks *hooks;
	bool detached;
	/* The budget's current window. */
	struct gp_budget_window window;
	uint64_t window_runs; /* hook runs at the window's start */
};

static bool kernel_has(const char *btf_type)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool found = btf && btf__find_by_name_kind(btf, btf_type, BTF_KIND_TYPEDEF) >= 0;

	btf__free(btf);
	return found;
}

/* The hooks to run on: only_hooks if named, else the first the kernel has. */
static const struct wire_hooks *choose_hooks(const char *only_hooks)
{
	for (size_t i = 0; i < ARRAY_SIZE(hook_sets); i++) {
		const struct wire_hooks *h = &hook_sets[i];

		if (only_hooks ? strcmp(only_hooks, h->name) : h->kernel_type && !kernel_has(h->kernel_type))
			continue;
		/* Forced onto hooks the kernel lacks: say so here, not as a verifier failure. */
		if (only_hooks && h->kernel_type && !kernel_has(h->kernel_type))
			return gp_err_null(-GOPROF_ERRNO_KERNEL, "GOPROF_HTTP_WIRE_HOOKS=%s: this kernel "
					   "has no %s (Linux 6.3+; %s is not in its BTF); the "
					   "syscalls hooks work on every kernel", h->name, h->described,
					   h->kernel_type + strlen("btf_trace_"));
		return h;
	}
	return gp_err_null(-EINVAL, "GOPROF_HTTP_WIRE_HOOKS=%s: not one of sockets, syscalls",
			   only_hooks);
}

/* Loads only the programs of the chosen hooks (their section names say which). */
static void select_programs(struct http_wire_bpf *skel, const struct wire_hooks *hooks)
{
	struct bpf_program *prog;
	bool sockets = !strcmp(hooks->name, "sockets");

	bpf_object__for_each_program(prog, skel->obj) {
		bool wanted = !strncmp(bpf_program__section_name(prog), "tp_btf/", 7) == sockets;

		bpf_program__set_autoload(prog, wanted);
		bpf_program__set_autoattach(prog, wanted);
	}
}

struct gp_http_wire *gp_http_wire_new(const struct gp_shared_maps *shared, const char *only_hooks)
{
	const struct wire_hooks *hooks = choose_hooks(only_hooks);
	struct gp_http_wire *w;
	int err;

	if (!hooks)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return gp_err_null(-ENOMEM, "out of memory");
	w->hooks = hooks;
	w->skel = http_wire_bpf__open();
	if (!w->skel) {
		err = -errno;
		free(w);
		return gp_err_null(err, "opening the embedded HTTP wire BPF object failed: %s",
				   strerror(-err));
	}
	err = gp_bpf_share_maps(w->skel->obj, shared);
	if (!err) {
		select_programs(w->skel, hooks);
		err = http_wire_bpf__load(w->skel);
	}
	if (err) {
		gp_http_wire_free(w);
		return gp_fail_null(gp_bpf_load_failed(err, "the HTTP wire programs"));
	}
	err = http_wire_bpf__attach(w->skel);
	if (err) {
		gp_http_wire_free(w);
		return gp_err_null(-GOPROF_ERRNO_KERNEL, "GOPROF_FEATURE_HTTP_WIRE: attaching the "
				   "%s failed: %s", hooks->described, strerror(-err));
	}
	return w;
}

void gp_http_wire_free(struct gp_http_wire *w)
{
	if (!w)
		return;
	http_wire_bpf__destroy(w->skel);
	free(w);
}

uint64_t gp_http_wire_runs(struct gp_http_wire *w)
{
	uint64_t total = 0;

	for (uint32_t h = 0; h < GP_HTTP_WIRE_HOOK_NR; h++)
		total += gp_map_sum_percpu(w->skel->maps.wire_runs, h);
	return total;
}

bool gp_http_wire_attached(const struct gp_http_wire *w)
{
	return !w->detached;
}

/* Detaches the hooks and forgets the requests in flight and their labels. */
static void detach(struct gp_http_wire *w)
{
	http_wire_bpf__detach(w->skel);
	w->detached = true;
	gp_map_clear(w->skel->maps.http_active);
}

bool gp_http_wire_budget_check(struct gp_http_wire *w, uint64_t now_ns, uint64_t target_cpu_ns,
			       uint32_t budget_bp, char *msg, size_t msg_len)
{
	uint64_t runs, elapsed = 0, cost, cpu = 0;
	enum gp_window_step step;

	if (w->detached)
		return false;
	step = gp_budget_window_step(&w->window, now_ns, target_cpu_ns, &elapsed, &cpu);
	if (step == GP_WINDOW_OPEN)
		return false;
	runs = gp_http_wire_runs(w);
	cost = (runs - w->window_runs) * GP_HTTP_WIRE_RUN_NS;
	w->window_runs = runs;
	if (step == GP_WINDOW_STARTED || !gp_budget_exceeded(cost, cpu, budget_bp))
		return false;
	detach(w);
	snprintf(msg, msg_len, "HTTP wire hooks (%s) detached: %.0f runs/s "
		 "cost about %.1f%% of the profiled processes' CPU (%u ns per run estimated), above "
		 "the budget of %.2f%%", w->hooks->name, (double)cost / GP_HTTP_WIRE_RUN_NS * 1e9 / (double)elapsed,
		 cpu ? 100.0 * (double)cost / (double)cpu : 100.0, GP_HTTP_WIRE_RUN_NS,
		 budget_bp / 100.0);
	return true;
}

int gp_http_wire_decode(const void *data, size_t len, struct gp_http_event *out)
{
	const size_t head_at = offsetof(struct gp_http_wire_event, head);
	const struct gp_http_wire_event *w = data;
	struct gp_http_head head;
	size_t head_len;

	if (len < head_at)
		return -EINVAL;
	head_len = GP_MIN((size_t)w->head_len, GP_MIN(len - head_at, sizeof(w->head)));
	*out = w->ev;
	out->type = w->ev.type == GP_REC_HTTP_WIRE_CLIENT ? GP_REC_HTTP_CLIENT : GP_REC_HTTP_SERVER;
	if (gp_http_head_parse(w->head, head_len, &head))
		return 0; /* the kernel saw a request line: cannot happen, keep its fields */
	out->a.content_length = head.content_length;
	/* A method longer than the kernel's field: the kernel left the path to us. */
	if (head.method_len >= sizeof(out->a.method)) {
		size_t n = GP_MIN(head.path_len, sizeof(out->a.path) - 1);

		out->a.method_len = (uint32_t)head.method_len;
		memcpy(out->a.path, head.path, n);
		out->a.path[n] = '\0';
	}
	/* The kernel stops at what fits a label (then says GP_HTTP_PATH_LEN, "longer"), or
	 * leaves a long method's path to us: the head says how long the path is. */
	if ((out->a.path_len == GP_HTTP_PATH_LEN && head.path_len) || head.path_len > out->a.path_len)
		out->a.path_len = (uint32_t)head.path_len;
	if (out->type == GP_REC_HTTP_CLIENT && head.host) {
		size_t n = GP_MIN(head.host_len, sizeof(out->a.host) - 1);

		memcpy(out->a.host, head.host, n);
		out->a.host[n] = '\0';
		out->a.host_len = (uint32_t)head.host_len;
	}
	return 0;
}

/* ---- the capability (capability.h) ---- */

static void *create(const struct gp_host *h)
{
	struct gp_http_wire *w = gp_http_wire_new(&h->shared, getenv("GOPROF_HTTP_WIRE_HOOKS"));

	if (w)
		w->host = h;
	return w;
}

static void destroy(void *cap)
{
	gp_http_wire_free(cap);
}

/* Once a second: holds the hooks to the overhead budget. */
static int tick(void *cap, uint64_t now_ns)
{
	struct gp_http_wire *w = cap;
	const struct gp_host *h = w->host;
	struct goprof_event ev = { .sz = sizeof(ev), .type = GOPROF_EVENT_PROBE_DETACHED };
	char msg[256];

	if (now_ns - w->judged_ns < 1000000000ull)
		return 0;
	w->judged_ns = now_ns;
	if (!gp_http_wire_budget_check(w, now_ns, h->targets_cpu_ns(h->session), h->budget_bp,
				       msg, sizeof(msg)))
		return 0;
	h->count_detached(h->session);
	ev.time_ns = now_ns;
	ev.message = msg;
	return h->emit(h->session, &ev);
}

static int take_record(void *cap, const void *rec, size_t len)
{
	struct gp_http_wire *w = cap;
	struct gp_http_event decoded;

	if (gp_http_wire_decode(rec, len, &decoded))
		return 0;
	return gp_http_request(w->host->session, &decoded);
}

/* The hooks see every followed process. */
static void process_added(void *cap, const struct gp_process_view *p)
{
	struct gp_http_wire *w = cap;

	w->host->process_flags(w->host->session, p->pid, GOPROF_PROCESS_HTTP, 0, NULL, false);
}

static void fill_stats(void *cap, struct goprof_session_stats *st, const uint64_t *lost)
{
	st->http_wire_hook_runs = gp_http_wire_runs(cap);
	st->lost_http_wire_conns = lost[GP_LOST_HTTP_WIRE_CONNS];
}

const struct gp_cap_ops gp_cap_http_wire = {
	.name = "http_wire",
	.features = GOPROF_FEATURE_HTTP_WIRE,
	.needs = "http", /* hands its requests to http's endpoint table */
	.create = create,
	.destroy = destroy,
	.tick = tick,
	.rec_first = GP_REC_HTTP_WIRE_SERVER,
	.rec_last = GP_REC_HTTP_WIRE_CLIENT,
	.take_record = take_record,
	.process_added = process_added,
	.fill_stats = fill_stats,
};
