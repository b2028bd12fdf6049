// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The kernel matrix's check, run inside each booted kernel (tests/kernels/init): profiles
 * the Go fixtures through the public API and prints one line per capability,
 *
 *   RESULT <capability> ok|FAIL|OFF <detail>
 *
 * OFF is a capability the library itself declined on this kernel, with its reason (the
 * degradation the matrix documents); FAIL is one that was on and did not deliver.
 * usage: guest-check FIXTURE_DIR GO_VERSION [CASE...]  (fixtures FIXTURE_DIR/NAME-goVERSION)
 *        guest-check --no-btf    (with /sys unmounted: session creation must name BTF)
 * CASEs (default: all): cpu goroutines gc heap sched offcpu tcp block http-sockets
 * http-syscalls http-uprobes leaks gc-stripped cpu-cgo. Only the features of the cases asked for
 * are loaded: loading every BPF object takes minutes in an emulated arm64 guest
 * (scripts/arm64-lane). leaks and gc-stripped read the runtime of stripped binaries,
 * located from their code; cpu-cgo profiles a cgo build (fixture split-cgo).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <goprof/goprof.h>

static const char *fixture_dir, *go_version;
static char *const *cases; /* NULL: every case */

static bool wanted(const char *c)
{
	if (!cases)
		return true;
	for (int i = 0; cases[i]; i++)
		if (!strcmp(cases[i], c))
			return true;
	return false;
}

static void result(const char *cap, const char *status, const char *fmt, ...)
{
	va_list ap;

	printf("RESULT %s %s ", cap, status);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A fixture started with pipes: its stdin (to say "go"), its stdout (its own truth). */
struct fixture {
	pid_t pid;
	FILE *in, *out;
};

/* Starts fixture NAME with args and reads its output up to a line starting with ready. */
static int fixture_start(struct fixture *f, const char *name, const char *ready, char *const args[])
{
	int to[2], from[2];
	char path[512], line[512];
	char *argv[12] = { path };

	snprintf(path, sizeof(path), "%s/%s-go%s", fixture_dir, name, go_version);
	for (int i = 0; args[i] && i < 10; i++)
		argv[i + 1] = args[i];
	if (pipe(to) || pipe(from))
		return -errno;
	f->pid = fork();
	if (f->pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[1]);
		close(from[0]);
		execv(path, argv);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	f->in = fdopen(to[1], "w");
	f->out = fdopen(from[0], "r");
	while (fgets(line, sizeof(line), f->out))
		if (!strncmp(line, ready, strlen(ready)))
			return 0;
	return -EIO;
}

static void fixture_go(struct fixture *f)
{
	fputs("go\n", f->in);
	fflush(f->in);
}

/* Closes its stdin (the fixtures then exit) and reaps it. */
static void fixture_end(struct fixture *f)
{
	if (f->pid <= 0)
		return;
	fclose(f->in);
	kill(f->pid, SIGTERM);
	waitpid(f->pid, NULL, 0);
	fclose(f->out);
	f->pid = 0;
}

/* What the callbacks count. */
struct seen {
	struct goprof_session *s;
	int split_pid;
	unsigned samples, go_context, go_samples, hot, cold, sym_checked, sym_match;
	unsigned created, gc, tcp_connect, tcp_accept, tcp_close, http, detached;
	char detach_msg[200];
};

struct has_fn {
	const char *name;
	int found;
};

static int frame_has(const struct goprof_frame *fr, void *ctx)
{
	struct has_fn *h = ctx;

	if (!strcmp(fr->function, h->name))
		h->found = 1;
	return 0;
}

static int on_sample(const struct goprof_sample *sm, void *ctx)
{
	struct seen *v = ctx;
	const char *part = NULL;

	if ((int)sm->pid != v->split_pid)
		return 0;
	v->samples++;
	if (!(sm->flags & GOPROF_SAMPLE_GO))
		return 0;
	v->go_context++; /* the runtime was readable; goid 0: the thread ran no goroutine */
	if (!sm->goid)
		return 0;
	v->go_samples++;
	for (uint32_t i = 0; i < sm->nr_labels; i++)
		if (!strcmp(sm->labels[i]->key, "part"))
			part = sm->labels[i]->str;
	if (!part)
		return 0;
	if (!strcmp(part, "hot"))
		v->hot++;
	else if (!strcmp(part, "cold"))
		v->cold++;
	/* The label must match the function on the stack (symbolized here, from .gopclntab). */
	if (v->sym_checked < 40 && (!strcmp(part, "hot") || !strcmp(part, "cold"))) {
		struct has_fn h = { !strcmp(part, "hot") ? "main.hot" : "main.cold", 0 };

		goprof_session_symbolize_sample(v->s, sm, frame_has, &h);
		v->sym_checked++;
		v->sym_match += h.found;
	}
	return 0;
}

static int on_event(const struct goprof_event *e, void *ctx)
{
	struct seen *v = ctx;

	switch (e->type) {
	case GOPROF_EVENT_GOROUTINE_CREATE: v->created++; break;
	case GOPROF_EVENT_GC_CYCLE: v->gc++; break;
	case GOPROF_EVENT_TCP_CONNECT: v->tcp_connect++; break;
	case GOPROF_EVENT_TCP_ACCEPT: v->tcp_accept++; break;
	case GOPROF_EVENT_TCP_CLOSE: v->tcp_close++; break;
	case GOPROF_EVENT_HTTP_REQUEST: v->http++; break;
	case GOPROF_EVENT_PROBE_DETACHED:
		v->detached++;
		snprintf(v->detach_msg, sizeof(v->detach_msg), "%s", e->message ? e->message : "");
		break;
	}
	return 0;
}

static void poll_for(struct goprof_session *s, double seconds)
{
	double end = now_s() + seconds;

	while (now_s() < end)
		goprof_session_poll(s, 100);
}

static struct goprof_session *new_session(uint32_t features, struct seen *v)
{
	GOPROF_OPTS(goprof_session_opts, o, .features = features, .on_sample = on_sample,
		    .on_event = on_event, .ctx = v, .overhead_budget_bp = 10000);
	double t0 = now_s();
	struct goprof_session *s = goprof_session_new(&o);

	if (s)
		printf("session features 0x%x loaded in %.1f s\n", features, now_s() - t0);
	return s;
}

/* Samples in a snapshot (a NULL one counts as none). */
static uint64_t profile_samples(struct goprof_profile *p)
{
	GOPROF_OPTS(goprof_profile_info, info);

	if (!p || goprof_profile_get_info(p, &info))
		return 0;
	goprof_profile_free(p);
	return info.nr_samples;
}

/* The process note the library left for pid (why a capability is off), or "". */
struct note {
	int pid;
	char text[200];
	uint32_t flags;
};

static int find_note(const struct goprof_process_info *pi, void *ctx)
{
	struct note *n = ctx;

	if ((int)pi->pid == n->pid) {
		snprintf(n->text, sizeof(n->text), "%s", pi->note);
		n->flags = pi->flags;
	}
	return 0;
}

/* The blocking profile's samples at main.sendSlow waiting in "chan send". */
struct block_find {
	unsigned at_send;
	uint64_t ns;
};

static int find_chan_send(const struct goprof_profile_sample *sm, void *ctx)
{
	struct block_find *b = ctx;
	bool reason = false, site = false;

	for (uint32_t i = 0; i < sm->nr_labels; i++)
		reason |= !strcmp(sm->labels[i]->key, "wait_reason") && sm->labels[i]->str &&
			  !strcmp(sm->labels[i]->str, "chan send");
	for (uint32_t f = 0; f < sm->nr_frames; f++)
		site |= !strcmp(sm->frames[f]->function, "main.sendSlow");
	if (reason && site) {
		b->at_send++;
		b->ns += sm->nr_values > 1 ? (uint64_t)sm->values[1] : 0;
	}
	return 0;
}

static void attach(struct goprof_session *s, const char *what, int pid)
{
	if (goprof_session_attach_pid(s, pid, NULL))
		printf("attach %s (%d): %s\n", what, pid, goprof_last_error());
}

/*
 * The CPU case's verdict on the split fixture's samples. Labelled samples carry their
 * goroutine's ID (read with the labels). The runtime was unreadable on a third of the
 * samples in the guests (3% here); why is not known yet: shown, not judged. The bounds
 * are wider than the core suites' (split within 50-85%, labels matching the sampled
 * function on 3 of 4): the guests' CPU is emulated, and runs of the four x86 kernels
 * measured 53-75% and 82-97% (on the host: 65-69%, 100%).
 */
static void cpu_result(const char *cap, const struct seen *v, const struct goprof_session_stats *st)
{
	double hot;
	bool ok;

	if (v->hot + v->cold < 20) {
		result(cap, "FAIL", "%u samples of split, runtime read on %u, %u in a goroutine, %u "
		       "labelled; %llu samples of all targets taken, runtime unreadable on %llu",
		       v->samples, v->go_context, v->go_samples, v->hot + v->cold,
		       (unsigned long long)st->cpu_samples, (unsigned long long)st->go_context_failed);
		return;
	}
	hot = 100.0 * v->hot / (v->hot + v->cold);
#if defined(__aarch64__)
	/* The arm64 lane holds the split to 70 +- 8 (issue 21; 66-70% in its runs). */
	ok = hot >= 62 && hot <= 78 && v->sym_match * 4 >= v->sym_checked * 3;
#else
	ok = hot >= 50 && hot <= 85 && v->sym_match * 4 >= v->sym_checked * 3;
#endif
	result(cap, ok ? "ok" : "FAIL", "%u samples, runtime read on %u, %u in a goroutine, "
	       "hot %.0f%% (70 expected), label=stack %u/%u", v->samples, v->go_context,
	       v->go_samples, hot, v->sym_match, v->sym_checked);
}

/*
 * Runs fixture name (split or split-cgo) under session s until 600 of its samples carry
 * its labels (the split to +-2%), 2 s at least and 20 s at most, then ends it. It burns from its start, and
 * attaching takes seconds in an emulated guest (longer on a loaded host): a fixed run
 * could end before the attach. Returns 0, or -EIO if it did not start.
 */
static int cpu_phase(struct goprof_session *s, struct fixture *split, const char *name, struct seen *v)
{
	double t0 = now_s();

	if (fixture_start(split, name, "ready", (char *[]){ "-seconds", "20", "-workers", "2", NULL }))
		return -EIO;
	v->split_pid = split->pid;
	attach(s, name, split->pid);
	while (now_s() - t0 < 20.5 && (v->hot + v->cold < 600 || now_s() - t0 < 2))
		poll_for(s, 0.5);
	fixture_end(split);
	return 0;
}

/*
 * The CPU case on a cgo build of the split fixture (split-cgo: runtime/cgo, external
 * linking, threads from pthread_create): on arm64 g is then in TLS as well as in R28,
 * and C code may use R28 for itself.
 */
static void check_cpu_cgo(void)
{
	struct fixture split = {};
	struct seen v = {};
	struct goprof_session *s = new_session(0, &v);
	GOPROF_OPTS(goprof_session_stats, st);

	if (!s) {
		result("cpu-cgo", "FAIL", "%s", goprof_last_error());
		return;
	}
	v.s = s;
	if (goprof_session_start(s)) {
		result("cpu-cgo", "FAIL", "start: %s", goprof_last_error());
		goto out;
	}
	if (cpu_phase(s, &split, "split-cgo", &v)) {
		result("cpu-cgo", "FAIL", "split-cgo did not start");
		goto out;
	}
	goprof_session_stats(s, &st);
	cpu_result("cpu-cgo", &v, &st);
out:
	goprof_session_free(s);
	fixture_end(&split);
}

/* CPU, runtime, off-CPU and TCP in one session, each on its own fixture. */
static void check_main(void)
{
	uint32_t features = (wanted("goroutines") ? GOPROF_FEATURE_GOROUTINES : 0) |
			    (wanted("gc") ? GOPROF_FEATURE_GC : 0) |
			    (wanted("heap") ? GOPROF_FEATURE_HEAP : 0) |
			    (wanted("sched") ? GOPROF_FEATURE_SCHED : 0) |
			    (wanted("offcpu") ? GOPROF_FEATURE_OFFCPU : 0) |
			    (wanted("tcp") ? GOPROF_FEATURE_TCP : 0);
	struct fixture split = {}, gc = {}, heap = {}, sched = {}, off = {}, tcp = {};
	struct seen v = {};
	struct goprof_session *s = new_session(features, &v);
	GOPROF_OPTS(goprof_sched_stats, ss);
	GOPROF_OPTS(goprof_session_stats, st);

	if (!s) {
		result("session", "FAIL", "%s", goprof_last_error());
		return;
	}
	v.s = s;
	result("session", "ok", "all BPF objects of these features loaded");
	/* The CPU profile first, alone: in emulation the other fixtures would leave the
	 * split fixture few samples. Then the others, attached to the running session. */
	if (goprof_session_start(s)) {
		result("session", "FAIL", "start: %s", goprof_last_error());
		goto out;
	}
	cpu_phase(s, &split, "split", &v);
	/* The goroutines case counts the creations of all of them. */
	if (wanted("gc") || wanted("goroutines"))
		fixture_start(&gc, "gc", "waiting", (char *[]){ "3", "2", NULL });
	if (wanted("heap"))
		fixture_start(&heap, "heap", "waiting", (char *[]){ NULL });
	if (wanted("sched"))
		fixture_start(&sched, "sched", "waiting", (char *[]){ "busy", "2", NULL });
	if (wanted("offcpu"))
		fixture_start(&off, "offcpu", "waiting", (char *[]){ "wait", "2", "10", "5", NULL });
	if (wanted("tcp"))
		fixture_start(&tcp, "tcpconn", "ready", (char *[]){ "3", NULL });
	struct fixture *const started[] = { &gc, &heap, &sched, &off, &tcp };
	const char *const names[] = { "gc", "heap", "sched", "offcpu", "tcpconn" };
	for (int i = 0; i < 5; i++)
		if (started[i]->pid > 0)
			attach(s, names[i], started[i]->pid);
	for (int i = 0; i < 5; i++)
		if (started[i]->pid > 0)
			fixture_go(started[i]);
	/* 4.5 s, and longer while a case still waits for its records: in emulation they can
	 * wait in the ring buffer behind thousands of others (45 s at most). */
	for (double t0 = now_s(); now_s() - t0 < 45;) {
		poll_for(s, 1.0);
		if (now_s() - t0 >= 4.5 && (!wanted("goroutines") || v.created) &&
		    (!wanted("gc") || v.gc) && (!wanted("tcp") || (v.tcp_connect && v.tcp_accept && v.tcp_close)) &&
		    (!wanted("heap") || profile_samples(goprof_session_snapshot_heap(s, 0))))
			break;
	}
	goprof_session_stats(s, &st);

	if (wanted("cpu"))
		cpu_result("cpu", &v, &st);
	if (wanted("goroutines"))
		result("goroutines", v.created ? "ok" : "FAIL", "%u creations", v.created);
	if (wanted("gc"))
		result("gc", v.gc ? "ok" : "FAIL", "%u cycles", v.gc);
	if (wanted("heap")) {
		uint64_t n = profile_samples(goprof_session_snapshot_heap(s, 0));
		struct note nt = { .pid = heap.pid };

		goprof_session_foreach_process(s, find_note, &nt);
		result("heap", n ? "ok" : "FAIL", "%llu heap samples%s%s", (unsigned long long)n,
		       nt.text[0] ? "; note: " : "", nt.text);
	}
	if (!wanted("sched"))
		; /* not asked for */
	else if (goprof_session_sched_stats(s, sched.pid, &ss) || !ss.waits)
		result("sched", "FAIL", "no waits measured");
	else
		result("sched", "ok", "%llu waits, p50 %llu us", (unsigned long long)ss.waits,
		       (unsigned long long)ss.p50_ns / 1000);
	if (wanted("offcpu")) {
		uint64_t n = profile_samples(goprof_session_snapshot_offcpu(s, 0));

		result("offcpu", n ? "ok" : "FAIL", "%llu stacks", (unsigned long long)n);
	}
	if (wanted("tcp"))
		result("tcp", v.tcp_connect && v.tcp_accept && v.tcp_close ? "ok" : "FAIL",
		       "%u connects, %u accepts, %u closes (hook runs %llu, sockets tracked %llu, "
		       "lost %llu + %llu untracked)", v.tcp_connect, v.tcp_accept, v.tcp_close,
		       (unsigned long long)st.tcp_hook_runs, (unsigned long long)st.tcp_sockets_tracked,
		       (unsigned long long)st.lost_tcp_events, (unsigned long long)st.lost_tcp_untracked);
	if (v.detached)
		printf("note: %u probe sets detached: %s\n", v.detached, v.detach_msg);
out:
	goprof_session_free(s);
	fixture_end(&split);
	fixture_end(&gc);
	fixture_end(&heap);
	fixture_end(&sched);
	fixture_end(&off);
	fixture_end(&tcp);
}

/*
 * Goroutine blocking in a session of its own: its uprobes (gopark, casgstatus) on every
 * fixture of the main session would flood an emulated guest's ring buffer.
 */
static void check_block(void)
{
	struct fixture blk = {};
	struct seen v = {};
	struct block_find b = {};
	struct goprof_session *s = new_session(GOPROF_FEATURE_BLOCK, &v);
	GOPROF_OPTS(goprof_session_stats, st);
	struct note nb = {};

	if (!s) {
		result("block", "FAIL", "%s", goprof_last_error());
		return;
	}
	v.s = s;
	fixture_start(&blk, "chanblock", "waiting", (char *[]){ "unbuffered", "3", NULL });
	attach(s, "chanblock", blk.pid);
	if (goprof_session_start(s)) {
		result("block", "FAIL", "start: %s", goprof_last_error());
		goto out;
	}
	fixture_go(&blk);
	/* 3 s of work, then until the blocked sends show (30 s at most) */
	for (double t0 = now_s(); now_s() - t0 < 30 && !(b.at_send && now_s() - t0 > 3.5);) {
		struct goprof_profile *p;

		poll_for(s, 1.0);
		p = goprof_session_snapshot_block(s, 0);
		b = (struct block_find){ 0 };
		if (p)
			goprof_profile_foreach_sample(p, find_chan_send, &b);
		goprof_profile_free(p);
	}
	goprof_session_stats(s, &st);
	nb.pid = blk.pid;
	goprof_session_foreach_process(s, find_note, &nb);
	result("block", b.at_send ? "ok" : "FAIL", "%u samples of main.sendSlow blocked in "
	       "\"chan send\", %llu ms (%llu blocks measured, %llu lost; %u uprobes, %llu "
	       "hits)%s%s", b.at_send, (unsigned long long)(b.ns / 1000000),
	       (unsigned long long)st.block_events, (unsigned long long)st.lost_block_events,
	       st.uprobes_installed, (unsigned long long)st.probe_hits,
	       nb.text[0] ? "; note: " : "", nb.text);
out:
	goprof_session_free(s);
	fixture_end(&blk);
}

/*
 * HTTP requests of the httpserv fixture's script: with the uprobes (hooks NULL) or the
 * wire tracer on one hook set.
 */
static void check_http(const char *cap, uint32_t feature, const char *hooks)
{
	char line[512];
	struct fixture srv = {};
	struct seen v = {};
	struct goprof_session *s;
	unsigned truth = 0;

	if (hooks)
		setenv("GOPROF_HTTP_WIRE_HOOKS", hooks, 1);
	s = new_session(feature, &v);
	unsetenv("GOPROF_HTTP_WIRE_HOOKS");
	if (!s) {
		/* The library refuses a hook set the kernel lacks: that is the degradation. */
		result(cap, errno == GOPROF_ERRNO_KERNEL ? "OFF" : "FAIL", "%s", goprof_last_error());
		return;
	}
	v.s = s;
	fixture_start(&srv, "httpserv", "listening", (char *[]){ "script", NULL });
	attach(s, "httpserv", srv.pid);
	if (goprof_session_start(s)) {
		result(cap, "FAIL", "start: %s", goprof_last_error());
		goto out;
	}
	fixture_go(&srv);
	while (fgets(line, sizeof(line), srv.out) && strncmp(line, "done", 4))
		truth += !strncmp(line, "server ", 7);
	poll_for(s, 1.0);
	result(cap, v.http ? "ok" : "FAIL", "%u requests traced, the fixture served %u", v.http, truth);
	if (v.detached)
		printf("note: %u probe sets detached: %s\n", v.detached, v.detach_msg);
out:
	goprof_session_free(s);
	fixture_end(&srv);
}

/* Goroutines parked at main.leaky, summed over the leak groups of pid. */
struct leak_find {
	int pid;
	uint64_t at_leaky;
};

static int find_leak(const struct goprof_goroutine_leak *l, void *ctx)
{
	struct leak_find *f = ctx;

	if ((int)l->pid == f->pid && !strcmp(l->top_function, "main.leaky"))
		f->at_leaky += l->count;
	return 0;
}

#define LEAKS 50

/*
 * The runtime of stripped binaries, read from their memory, no probe: the leak fixture's
 * goroutine snapshots (the goroutine list located from the code of runtime.forEachG) and
 * the gc fixture's cycles (runtime.memstats located from the code that reads it).
 */
static void check_stripped(void)
{
	struct seen v = {};
	GOPROF_OPTS(goprof_session_opts, o,
		    .features = (wanted("leaks") ? GOPROF_FEATURE_GOROUTINE_SNAPSHOTS : 0) |
				(wanted("gc-stripped") ? GOPROF_FEATURE_GC : 0),
		    .on_event = on_event, .ctx = &v, .snapshot_interval_ms = 200,
		    .goroutine_leak_age_ms = 1000, .snapshot_cpu_budget_bp = 10000);
	struct fixture leak = {}, gc = {};
	struct leak_find f = {};
	struct goprof_session *s = goprof_session_new(&o);
	struct note nl = {}, ng = {};
	GOPROF_OPTS(goprof_session_stats, st);
	double t0;

	if (!s) {
		result(wanted("leaks") ? "leaks" : "gc-stripped", "FAIL", "%s", goprof_last_error());
		return;
	}
	v.s = s;
	if (wanted("leaks"))
		fixture_start(&leak, "leak-stripped", "waiting", (char *[]){ "50", "20", NULL });
	if (wanted("gc-stripped"))
		fixture_start(&gc, "gc-stripped", "waiting", (char *[]){ "3", "2", NULL });
	f.pid = nl.pid = leak.pid;
	ng.pid = gc.pid;
	if (leak.pid > 0)
		attach(s, "leak-stripped", leak.pid);
	if (gc.pid > 0)
		attach(s, "gc-stripped", gc.pid);
	if (goprof_session_start(s)) {
		result("leaks", "FAIL", "start: %s", goprof_last_error());
		goto out;
	}
	if (leak.pid > 0)
		fixture_go(&leak);
	if (gc.pid > 0)
		fixture_go(&gc);
	/* Past the leak age, until the leak shows whole (or 20 s: emulated CPUs are slow). */
	for (t0 = now_s(); now_s() - t0 < 20;) {
		goprof_session_poll(s, 100);
		f.at_leaky = 0;
		goprof_session_foreach_goroutine_leak(s, find_leak, &f);
		if ((!leak.pid || f.at_leaky >= LEAKS) && (!gc.pid || v.gc) && now_s() - t0 > 2)
			break;
	}
	goprof_session_foreach_process(s, find_note, &nl);
	goprof_session_foreach_process(s, find_note, &ng);
	goprof_session_stats(s, &st);
	if (wanted("leaks"))
		result("leaks", f.at_leaky == LEAKS ? "ok" : "FAIL", "%llu goroutines leaked at main.leaky "
		       "found (%d expected; %llu snapshots, %llu failed, %llu goroutines read, %llu "
		       "rejected)%s%s", (unsigned long long)f.at_leaky, LEAKS,
		       (unsigned long long)st.goroutine_snapshots,
		       (unsigned long long)st.goroutine_snapshots_failed,
		       (unsigned long long)st.snapshot_goroutines_read,
		       (unsigned long long)st.snapshot_rejected, nl.text[0] ? "; note: " : "", nl.text);
	if (wanted("gc-stripped"))
		result("gc-stripped", v.gc ? "ok" : "FAIL", "%u cycles read from memory%s%s", v.gc,
		       ng.text[0] ? "; note: " : "", ng.text);
out:
	goprof_session_free(s);
	fixture_end(&leak);
	fixture_end(&gc);
}

int main(int argc, char **argv)
{
	double t0 = now_s();

	if (argc == 2 && !strcmp(argv[1], "--no-btf")) {
		/* Run before /sys is mounted: the library must refuse, naming what it needs. */
		struct goprof_session *s = goprof_session_new(NULL);
		bool ok = !s && errno == GOPROF_ERRNO_KERNEL && strstr(goprof_last_error(), "BTF");

		result("no-btf", ok ? "ok" : "FAIL", "%s", s ? "session created" : goprof_last_error());
		goprof_session_free(s);
		return 0;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: guest-check FIXTURE_DIR GO_VERSION [CASE...] | --no-btf\n");
		return 2;
	}
	fixture_dir = argv[1];
	go_version = argv[2];
	cases = argc > 3 ? argv + 3 : NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (wanted("cpu") || wanted("goroutines") || wanted("gc") || wanted("heap") ||
	    wanted("sched") || wanted("offcpu") || wanted("tcp"))
		check_main();
	if (wanted("block"))
		check_block();
	if (wanted("http-sockets"))
		check_http("http-sockets", GOPROF_FEATURE_HTTP_WIRE, "sockets");
	if (wanted("http-syscalls"))
		check_http("http-syscalls", GOPROF_FEATURE_HTTP_WIRE, "syscalls");
	if (wanted("http-uprobes"))
		check_http("http-uprobes", GOPROF_FEATURE_HTTP, NULL);
	if (wanted("leaks") || wanted("gc-stripped"))
		check_stripped();
	if (wanted("cpu-cgo"))
		check_cpu_cgo();
	printf("guest-check took %.1f s\n", now_s() - t0);
	return 0;
}
