// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Goroutine snapshots (lib/caps/gsnap/): the Go runtime's goroutine list read from outside,
 * with no probe in the target. The gsnap fixture (tests/fixtures/gsnap) parks N goroutines
 * forever at main.leaky (created by main.startLeaks) while M short-lived ones come and go;
 * on SIGUSR1 it prints its own runtime.Stack(buf, true) dump.
 *   - leak report: exactly N at the site, on every release, plain and stripped, with no
 *     uprobe installed and nothing detached;
 *   - snapshots agree with the program's own dump (IDs, wait reasons, top frames,
 *     creation site, parent);
 *   - the goroutine profile (stacks, counts, labels);
 *   - bad input: a process that exits or execs mid-snapshot, stacks that move while read,
 *     a binary whose goroutine list cannot be located;
 *   - cost: the reader's CPU with 10,000 parked goroutines at the default rate.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "test_common.h"

#define LEAKS 137
#define CHURN 50

static bool fast_opts_ok(struct goprof_session **s, uint32_t leak_age_ms)
{
	/* a snapshot every 200 ms whatever it costs (a whole core of budget): the tests of
	 * what snapshots see do not wait for the default rate (reader_cpu_* tests that) */
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_GOROUTINE_SNAPSHOTS,
		    .snapshot_interval_ms = 200, .goroutine_leak_age_ms = leak_age_ms,
		    .snapshot_cpu_budget_bp = 10000);

	*s = goprof_session_new(&opts);
	return *s != NULL;
}

static void start_fixture(struct child *c, const char *path, int n, int m, const char *mode,
			  struct goprof_session *s)
{
	char ns[16], ms[16], line[64];
	char *argv[] = { (char *)path, ns, ms, (char *)mode, NULL };

	snprintf(ns, sizeof(ns), "%d", n);
	snprintf(ms, sizeof(ms), "%d", m);
	child_start_attached(c, argv, s);
	cr_assert(child_read_line(c, line, sizeof(line)) && !strcmp(line, "started"),
		  "%s did not start", path);
}

/* ---- leak report on every release ---- */

struct leak_find {
	uint32_t pid;
	uint64_t at_site, groups_elsewhere_in_main;
	char created_by[256], wait_reason[64];
};

static int find_leak(const struct goprof_goroutine_leak *l, void *ctx)
{
	struct leak_find *f = ctx;

	if (l->pid != f->pid)
		return 0;
	if (!strcmp(l->top_function, "main.leaky")) {
		f->at_site += l->count;
		snprintf(f->created_by, sizeof(f->created_by), "%s", l->created_by);
		snprintf(f->wait_reason, sizeof(f->wait_reason), "%s", l->wait_reason);
	} else if (!strncmp(l->top_function, "main.churn", 10)) {
		f->groups_elsewhere_in_main += l->count;
	}
	return 0;
}

struct events {
	int leak_events;
	int detached;
};

static int on_event(const struct goprof_event *ev, void *ctx)
{
	struct events *e = ctx;

	if (ev->type == GOPROF_EVENT_GOROUTINE_LEAK) {
		e->leak_events++;
		cr_assert_not_null(ev->leak);
		cr_assert_not_null(ev->message);
	}
	e->detached += ev->type == GOPROF_EVENT_PROBE_DETACHED;
	return 0;
}

Test(gsnap, leak_site_exactly_n_every_release_no_uprobe, .timeout = 120)
{
	const char *const *vers = fixture_all_go_versions();
	struct child c[32];
	const char *names[32], *vs[32];
	int n = 0;
	struct events ev = { 0 };
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_GOROUTINE_SNAPSHOTS,
		    .snapshot_interval_ms = 200, .goroutine_leak_age_ms = 1000,
		    .snapshot_cpu_budget_bp = 10000, .on_event = on_event, .ctx = &ev);
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s;
	double t0, t1;

	require_bpf_privileges();
	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	for (int i = 0; vers[i] && n < 30; i++)
		for (int stripped = 0; stripped < 2; stripped++) {
			names[n] = stripped ? "gsnap-stripped" : "gsnap";
			vs[n] = vers[i];
			start_fixture(&c[n], fixture_path(names[n], vers[i]), LEAKS, CHURN, NULL, s);
			n++;
		}
	/* Past the leak age, polling as a host would: until every process shows its leak
	 * (about 1.2 s; more on a loaded machine, where opening 14 binaries takes a while). */
	t0 = mono_seconds();
	while (mono_seconds() - t0 < 30) {
		int done = 0;

		goprof_session_poll(s, 50);
		for (int i = 0; i < n; i++) {
			struct leak_find f = { .pid = (uint32_t)c[i].pid };

			goprof_session_foreach_goroutine_leak(s, find_leak, &f);
			done += f.at_site >= LEAKS;
		}
		if (done == n)
			break;
	}
	/* one snapshot more: the count stays exact */
	t1 = mono_seconds();
	while (mono_seconds() - t1 < 0.3)
		goprof_session_poll(s, 50);
	cr_assert_eq(goprof_session_stats(s, &st), 0);
	for (int i = 0; i < n; i++) {
		struct leak_find f = { .pid = (uint32_t)c[i].pid };

		goprof_session_foreach_goroutine_leak(s, find_leak, &f);
		cr_log_info("go%s %s: %llu at main.leaky [%s] created by %s", vs[i], names[i],
			    (unsigned long long)f.at_site, f.wait_reason, f.created_by);
		cr_expect_eq(f.at_site, LEAKS, "go%s %s: %llu goroutines reported at main.leaky, "
			     "expected %d", vs[i], names[i], (unsigned long long)f.at_site, LEAKS);
		cr_expect(!strncmp(f.created_by, "main.startLeaks (", 17), "go%s %s: created by '%s'",
			  vs[i], names[i], f.created_by);
		cr_expect_str_eq(f.wait_reason, "chan receive", "go%s %s", vs[i], names[i]);
		cr_expect_eq(f.groups_elsewhere_in_main, 0, "go%s %s: short-lived goroutines reported",
			     vs[i], names[i]);
	}
	cr_log_info("%llu snapshots (%llu failed), %llu goroutines read, %llu retries, %llu left "
		    "out, %llu rejected, reader CPU %.1f ms, %u uprobes", (unsigned long long)st.goroutine_snapshots,
		    (unsigned long long)st.goroutine_snapshots_failed,
		    (unsigned long long)st.snapshot_goroutines_read, (unsigned long long)st.snapshot_retries,
		    (unsigned long long)st.snapshot_changed, (unsigned long long)st.snapshot_rejected,
		    st.snapshot_cpu_ns / 1e6, st.uprobes_installed);
	cr_expect_eq(st.uprobes_installed, 0, "the snapshot mode installed uprobes");
	cr_expect_eq(st.probe_sets_detached, 0);
	cr_expect_eq(ev.detached, 0);
	cr_expect_geq(ev.leak_events, n, "one leak event per process at least");
	cr_expect_eq(st.goroutine_snapshots_failed, 0);
	cr_expect_geq(st.goroutine_leak_groups, (uint32_t)n);
	for (int i = 0; i < n; i++) {
		child_close_stdin(&c[i]);
		cr_expect_eq(child_wait(&c[i]), 0, "the fixture was harmed");
	}
	goprof_session_free(s);
}

/* ---- agreement with the program's own runtime.Stack dump ---- */

#define MAX_DUMP 4096

struct dumped {
	uint64_t goid, parent;
	char reason[64], top[128], created_by[128];
	bool seen;
};

/* Reads the dump the fixture prints on SIGUSR1. */
static int read_dump(struct child *c, struct dumped *d, int max)
{
	char line[1024];
	int n = -1;
	bool want_top = false;

	kill(c->pid, SIGUSR1);
	while (child_read_line(c, line, sizeof(line)) && strcmp(line, "DUMP BEGIN"))
		;
	while (child_read_line(c, line, sizeof(line)) && strcmp(line, "DUMP END")) {
		unsigned long long id;
		char reason[64];

		if (sscanf(line, "goroutine %llu [%63[^],]", &id, reason) == 2 && n + 1 < max) {
			n++;
			memset(&d[n], 0, sizeof(d[n]));
			d[n].goid = id;
			snprintf(d[n].reason, sizeof(d[n].reason), "%s", reason);
			want_top = true;
			continue;
		}
		if (n < 0 || !line[0] || line[0] == '\t')
			continue;
		if (!strncmp(line, "created by ", 11)) {
			char *in = strstr(line, " in goroutine ");

			if (in) {
				d[n].parent = strtoull(in + 14, NULL, 10);
				*in = '\0';
			}
			snprintf(d[n].created_by, sizeof(d[n].created_by), "%.127s", line + 11);
			continue;
		}
		if (want_top) {
			char *paren = strrchr(line, '(');

			if (paren)
				*paren = '\0';
			snprintf(d[n].top, sizeof(d[n].top), "%.127s", line);
			want_top = false;
		}
	}
	return n + 1;
}

struct cmp_ctx {
	struct goprof_binary *bin;
	struct dumped *d;
	int nd;
	int matched, stable, in_leaky, parent_ok, parent_checked;
	bool newer_than_20;
	char failures[2048];
};

static int first_frame(const struct goprof_frame *f, void *ctx)
{
	char *out = ctx;

	if (!out[0] && f->frame_index == 0 && strncmp(f->function, "runtime.", 8))
		snprintf(out, 128, "%s", f->function);
	return 0;
}

static int compare_one(const struct goprof_goroutine *g, void *ctx)
{
	struct cmp_ctx *c = ctx;
	char top[128] = "";

	/* the first frame outside the runtime, as Go's dump shows it (return addresses at pc - 1) */
	for (uint32_t i = 0; i < g->nr_stack && !top[0]; i++) {
		uint64_t a = g->stack[i] - 1;

		goprof_binary_symbolize(c->bin, &a, 1, first_frame, top);
	}
	if (!strcmp(top, "main.leaky"))
		c->in_leaky++;
	for (int i = 0; i < c->nd; i++) {
		struct dumped *d = &c->d[i];

		if (d->goid != g->goid)
			continue;
		d->seen = true;
		/* goroutines that do not change: parked for good in main.* */
		if (strcmp(d->top, "main.leaky") && strcmp(d->top, "main.labelled"))
			return 0;
		c->stable++;
		if (strcmp(d->reason, g->wait_reason) || strcmp(d->top, top) ||
		    strncmp(g->created_by, d->created_by, strlen(d->created_by))) {
			size_t l = strlen(c->failures);

			snprintf(c->failures + l, sizeof(c->failures) - l,
				 "goroutine %llu: dump [%s] %s created by %s; snapshot [%s] %s created by %s\n",
				 (unsigned long long)g->goid, d->reason, d->top, d->created_by,
				 g->wait_reason, top, g->created_by);
			return 0;
		}
		if (c->newer_than_20) {
			c->parent_checked++;
			c->parent_ok += g->parent_goid == d->parent;
		}
		c->matched++;
		return 0;
	}
	return 0;
}

static void agree_with_dump(const char *ver, bool stripped)
{
	const char *path = fixture_path(stripped ? "gsnap-stripped" : "gsnap", ver);
	struct dumped *d = calloc(MAX_DUMP, sizeof(*d));
	struct cmp_ctx cc = { .d = d };
	struct goprof_goroutine_snapshot *snap;
	struct goprof_goroutine_snapshot_info info = { .sz = sizeof(info) };
	struct goprof_session *s;
	struct child c;
	int minor = atoi(strchr(ver, '.') + 1);

	cr_assert_not_null(d);
	cr_assert(fast_opts_ok(&s, 1000), "%s", goprof_last_error());
	start_fixture(&c, path, LEAKS, CHURN, NULL, s);
	/* the binary itself, with symbols, for the comparison (not the library's reader) */
	cc.bin = goprof_binary_open(fixture_path("gsnap", ver), NULL);
	cr_assert_not_null(cc.bin, "%s", goprof_last_error());
	cc.newer_than_20 = minor >= 21;
	cc.nd = read_dump(&c, d, MAX_DUMP);
	snap = goprof_session_take_goroutine_snapshot(s, c.pid, 0);
	cr_assert_not_null(snap, "go%s: %s", ver, goprof_last_error());
	cr_assert_eq(goprof_goroutine_snapshot_info(snap, &info), 0);
	cr_assert_eq(goprof_goroutine_snapshot_foreach(snap, compare_one, &cc), 0);
	cr_log_info("go%s%s: dump %d goroutines, snapshot %llu (%llu retries, %llu left out) in "
		    "%.2f ms; %d stable ones matched of %d; parents %d/%d", ver, stripped ? " stripped" : "",
		    cc.nd, (unsigned long long)info.goroutines, (unsigned long long)info.retries,
		    (unsigned long long)info.changed, info.duration_ns / 1e6, cc.matched, cc.stable,
		    cc.parent_ok, cc.parent_checked);
	cr_expect(cc.failures[0] == '\0', "go%s: disagreements:\n%s", ver, cc.failures);
	cr_expect_eq(cc.stable, LEAKS + 2, "go%s: %d of the %d stable goroutines of the dump in the "
		     "snapshot", ver, cc.stable, LEAKS + 2);
	cr_expect_eq(cc.matched, cc.stable);
	cr_expect_eq(cc.in_leaky, LEAKS, "go%s: %d goroutines in main.leaky in the snapshot", ver,
		     cc.in_leaky);
	cr_expect_eq(cc.parent_ok, cc.parent_checked, "go%s: parent goroutine IDs differ", ver);
	/* every stable goroutine of the dump is in the snapshot */
	for (int i = 0; i < cc.nd; i++)
		if (!strcmp(d[i].top, "main.leaky") || !strcmp(d[i].top, "main.labelled"))
			cr_expect(d[i].seen, "go%s: goroutine %llu of the dump missing", ver,
				  (unsigned long long)d[i].goid);
	goprof_goroutine_snapshot_free(snap);
	goprof_binary_free(cc.bin);
	child_close_stdin(&c);
	cr_expect_eq(child_wait(&c), 0);
	goprof_session_free(s);
	free(d);
}

Test(gsnap, snapshot_agrees_with_runtime_stack_dump, .timeout = 120)
{
	const char *const *vers = fixture_all_go_versions();

	require_bpf_privileges();
	for (int i = 0; vers[i]; i++)
		for (int stripped = 0; stripped < 2; stripped++)
			agree_with_dump(vers[i], stripped);
}

/* ---- the goroutine profile ---- */

struct prof_count {
	int64_t leaky, labelled_a, labelled_b, total;
	int64_t leak_samples_with_created_by;
};

static int count_profile(const struct goprof_profile_sample *s, void *ctx)
{
	struct prof_count *p = ctx;
	bool leaky = false, labelled = false;

	for (uint32_t i = 0; i < s->nr_frames; i++) {
		leaky |= !strcmp(s->frames[i]->function, "main.leaky");
		labelled |= !strcmp(s->frames[i]->function, "main.labelled");
	}
	p->total += s->values[0];
	if (leaky)
		p->leaky += s->values[0];
	for (uint32_t i = 0; i < s->nr_labels; i++) {
		const struct goprof_profile_label *l = s->labels[i];

		if (labelled && !strcmp(l->key, "worker") && !strcmp(l->str, "a"))
			p->labelled_a += s->values[0];
		if (labelled && !strcmp(l->key, "worker") && !strcmp(l->str, "b"))
			p->labelled_b += s->values[0];
		if (leaky && !strcmp(l->key, "created_by") && !strncmp(l->str, "main.startLeaks", 15))
			p->leak_samples_with_created_by += s->values[0];
	}
	return 0;
}

Test(gsnap, goroutine_profile_stacks_counts_labels, .timeout = 60)
{
	const char *const *vers = fixture_go_versions();

	require_bpf_privileges();
	for (int i = 0; vers[i]; i++) {
		struct goprof_session *s;
		struct goprof_profile *p;
		struct prof_count all = { 0 }, old = { 0 };
		struct child c;
		double t0;

		cr_assert(fast_opts_ok(&s, 300), "%s", goprof_last_error());
		start_fixture(&c, fixture_path("gsnap-stripped", vers[i]), LEAKS, CHURN, NULL, s);
		p = goprof_session_snapshot_goroutines(s, 0, 0);
		cr_assert_not_null(p, "%s", goprof_last_error());
		goprof_profile_foreach_sample(p, count_profile, &all);
		cr_assert_eq(goprof_profile_write_file(p, GOPROF_FORMAT_PPROF, NULL, "/tmp/gsnap-test.pb.gz"), 0);
		goprof_profile_free(p);
		t0 = mono_seconds();
		while (mono_seconds() - t0 < 0.6)
			goprof_session_poll(s, 50);
		p = goprof_session_snapshot_goroutines(s, 300 * 1000000ull, 0);
		cr_assert_not_null(p, "%s", goprof_last_error());
		goprof_profile_foreach_sample(p, count_profile, &old);
		goprof_profile_free(p);
		cr_log_info("go%s: profile %lld goroutines, %lld in main.leaky, labels a %lld b %lld; "
			    "parked > 300 ms: %lld in main.leaky", vers[i], (long long)all.total,
			    (long long)all.leaky, (long long)all.labelled_a, (long long)all.labelled_b,
			    (long long)old.leaky);
		cr_expect_eq(all.leaky, LEAKS);
		cr_expect_eq(all.labelled_a, 1);
		cr_expect_eq(all.labelled_b, 1);
		cr_expect_geq(all.total, LEAKS + 2);
		cr_expect_eq(old.leaky, LEAKS);
		cr_expect_eq(old.leak_samples_with_created_by, LEAKS);
		child_close_stdin(&c);
		cr_expect_eq(child_wait(&c), 0);
		goprof_session_free(s);
	}
}

/* ---- bad input ---- */

struct killer {
	pid_t pid;
	int delay_us;
	int sig;
};

static void *kill_later(void *arg)
{
	struct killer *k = arg;

	usleep((useconds_t)k->delay_us);
	kill(k->pid, k->sig);
	return NULL;
}

struct sane {
	uint32_t pid;
	int bad;
	uint64_t n;
};

static int check_sane(const struct goprof_goroutine *g, void *ctx)
{
	struct sane *s = ctx;

	s->n++;
	s->bad += g->pid != s->pid || !g->goid || g->goid >= (1ull << 48) || g->status > 11 ||
		  g->nr_stack > 64;
	return 0;
}

Test(gsnap, process_exits_mid_snapshot, .timeout = 60)
{
	const char *ver = fixture_go_versions()[0];

	require_bpf_privileges();
	for (int round = 0; round < 6; round++) {
		struct goprof_session *s;
		struct child c;
		pthread_t th;
		struct killer k;
		struct goprof_goroutine_snapshot *snap;

		cr_assert(fast_opts_ok(&s, 1000), "%s", goprof_last_error());
		start_fixture(&c, fixture_path("gsnap", ver), 20000, 0, NULL, s);
		k = (struct killer){ c.pid, 200 + round * 1500, SIGKILL };
		pthread_create(&th, NULL, kill_later, &k);
		for (int i = 0; i < 50; i++) {
			struct sane sn = { .pid = (uint32_t)c.pid };

			snap = goprof_session_take_goroutine_snapshot(s, c.pid, 0);
			if (!snap) {
				cr_expect(errno == ESRCH || errno == ENOENT, "errno %d: %s", errno,
					  goprof_last_error());
				break;
			}
			goprof_goroutine_snapshot_foreach(snap, check_sane, &sn);
			cr_expect_eq(sn.bad, 0, "%d goroutines with impossible fields", sn.bad);
			goprof_goroutine_snapshot_free(snap);
		}
		pthread_join(th, NULL);
		child_wait(&c);
		goprof_session_poll(s, 0);
		goprof_session_free(s);
	}
}

Test(gsnap, process_execs_mid_snapshot, .timeout = 60)
{
	const char *ver = fixture_go_versions()[0];
	int stale = 0, ok = 0;

	require_bpf_privileges();
	for (int round = 0; round < 4; round++) {
		struct goprof_session *s;
		struct child c;
		pthread_t th;
		struct killer k;

		cr_assert(fast_opts_ok(&s, 1000), "%s", goprof_last_error());
		struct goprof_goroutine_snapshot *first;
		struct goprof_goroutine_snapshot_info info = { .sz = sizeof(info) };

		start_fixture(&c, fixture_path("gsnap", ver), 5000, 0, "exec", s);
		/* one before the exec: how long a snapshot takes here, to exec in the middle of
		 * the next ones (at 20%, 40%, 60%, 80% of one) */
		first = goprof_session_take_goroutine_snapshot(s, c.pid, 0);
		cr_assert_not_null(first, "%s", goprof_last_error());
		goprof_goroutine_snapshot_info(first, &info);
		goprof_goroutine_snapshot_free(first);
		ok++;
		k = (struct killer){ c.pid, (int)(info.duration_ns / 1000 * (round + 1) / 5), SIGUSR2 };
		pthread_create(&th, NULL, kill_later, &k);
		for (int i = 0; i < 40; i++) {
			struct sane sn = { .pid = (uint32_t)c.pid };
			char exe[64], target[256] = "";
			bool execd;
			struct goprof_goroutine_snapshot *snap;

			/* exec'd before the snapshot began: there is no Go runtime to read */
			snprintf(exe, sizeof(exe), "/proc/%d/exe", c.pid);
			execd = readlink(exe, target, sizeof(target) - 1) > 0 && strstr(target, "sleep");
			snap = goprof_session_take_goroutine_snapshot(s, c.pid, 0);
			if (!snap) {
				cr_expect(errno == ESRCH || errno == ENOENT || errno == ESTALE ||
					  errno == EFAULT || errno == EPROTO, "errno %d: %s", errno,
					  goprof_last_error());
				stale++;
				continue;
			}
			ok++;
			goprof_goroutine_snapshot_foreach(snap, check_sane, &sn);
			cr_expect_eq(sn.bad, 0);
			cr_expect(!execd || sn.n == 0, "%llu goroutines reported from /bin/sleep",
				  (unsigned long long)sn.n);
			goprof_goroutine_snapshot_free(snap);
			goprof_session_poll(s, 0);
		}
		pthread_join(th, NULL);
		child_kill(&c);
		goprof_session_free(s);
	}
	cr_log_info("exec mid-snapshot: %d snapshots, %d refused", ok, stale);
	cr_expect_gt(ok, 0);
}

struct growth_check {
	struct goprof_binary *bin;
	uint64_t n, unsymbolized, dup;
	uint64_t ids[8192];
	size_t nids;
};

static int has_frame(const struct goprof_frame *f, void *ctx)
{
	(void)f;
	*(bool *)ctx = true;
	return 0;
}

static int check_growth(const struct goprof_goroutine *g, void *ctx)
{
	struct growth_check *c = ctx;

	for (size_t i = 0; i < c->nids; i++)
		c->dup += c->ids[i] == g->goid;
	if (c->nids < 8192)
		c->ids[c->nids++] = g->goid;
	/* every frame reported must be code of the binary: a frame read off a stack that was
	 * being copied would point anywhere */
	for (uint32_t i = 0; i < g->nr_stack; i++) {
		uint64_t a = g->stack[i] - (i ? 1 : 0);
		bool found = false;

		goprof_binary_symbolize(c->bin, &a, 1, has_frame, &found);
		c->unsymbolized += !found;
	}
	c->n++;
	return 0;
}

Test(gsnap, stacks_that_move_while_read, .timeout = 60)
{
	const char *const *vers = fixture_go_versions();
	struct goprof_session_stats st = { .sz = sizeof(st) };

	require_bpf_privileges();
	for (int v = 0; vers[v]; v++) {
		struct goprof_session *s;
		struct child c;
		struct growth_check *gc = calloc(1, sizeof(*gc));

		cr_assert(fast_opts_ok(&s, 1000), "%s", goprof_last_error());
		start_fixture(&c, fixture_path("gsnap", vers[v]), 100, 0, "grow", s);
		gc->bin = goprof_binary_open(fixture_path("gsnap", vers[v]), NULL);
		cr_assert_not_null(gc->bin);
		for (int i = 0; i < 40; i++) {
			struct goprof_goroutine_snapshot *snap =
				goprof_session_take_goroutine_snapshot(s, c.pid, 0);

			cr_assert_not_null(snap, "%s", goprof_last_error());
			gc->nids = 0;
			goprof_goroutine_snapshot_foreach(snap, check_growth, gc);
			goprof_goroutine_snapshot_free(snap);
		}
		cr_assert_eq(goprof_session_stats(s, &st), 0);
		cr_log_info("go%s, growing stacks: %llu goroutines in 40 snapshots, %llu retries, %llu "
			    "left out, %llu frames outside the code, %llu duplicate IDs", vers[v],
			    (unsigned long long)gc->n, (unsigned long long)st.snapshot_retries,
			    (unsigned long long)st.snapshot_changed, (unsigned long long)gc->unsymbolized,
			    (unsigned long long)gc->dup);
		cr_expect_eq(gc->unsymbolized, 0);
		cr_expect_eq(gc->dup, 0);
		goprof_binary_free(gc->bin);
		free(gc);
		child_close_stdin(&c);
		cr_expect_eq(child_wait(&c), 0);
		goprof_session_free(s);
	}
}

/* A copy of the stripped fixture whose pclntab names no runtime.forEachG*: the goroutine
 * list cannot be located. */
static void copy_without_foreachg(const char *from, const char *to)
{
	FILE *f = fopen(from, "rb");
	long len;
	char *buf;
	int patched = 0;

	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)len);
	cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	for (long i = 0; i + 16 <= len; i++)
		if (!memcmp(buf + i, "runtime.forEachG", 16)) {
			buf[i + 15] = 'X';
			patched++;
		}
	cr_assert_geq(patched, 2, "runtime.forEachG and forEachGRace not found in %s", from);
	f = fopen(to, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	chmod(to, 0755);
	free(buf);
}

struct note_ctx {
	uint32_t pid;
	char note[256];
	uint32_t flags;
};

static int get_note(const struct goprof_process_info *info, void *ctx)
{
	struct note_ctx *n = ctx;

	if (info->pid == n->pid) {
		snprintf(n->note, sizeof(n->note), "%s", info->note);
		n->flags = info->flags;
	}
	return 0;
}

Test(gsnap, goroutine_list_not_locatable, .timeout = 60)
{
	const char *ver = fixture_go_versions()[0];
	char path[] = "/tmp/gsnap-noallgs-XXXXXX";
	struct goprof_session *s;
	struct child c;
	struct note_ctx nc = { 0 };
	struct goprof_profile *cpu;
	double t0;
	int fd = mkstemp(path);

	require_bpf_privileges();
	cr_assert_geq(fd, 0);
	close(fd);
	copy_without_foreachg(fixture_path("gsnap-stripped", ver), path);
	cr_assert(fast_opts_ok(&s, 1000), "%s", goprof_last_error());
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	start_fixture(&c, path, 10, CHURN, NULL, s);
	cr_assert_null(goprof_session_take_goroutine_snapshot(s, c.pid, 0));
	cr_expect_eq(errno, ENOENT);
	cr_log_info("not locatable: %s", goprof_last_error());
	cr_expect(strstr(goprof_last_error(), "cannot locate the goroutine list"), "%s",
		  goprof_last_error());
	t0 = mono_seconds();
	while (mono_seconds() - t0 < 0.5)
		goprof_session_poll(s, 50);
	nc.pid = (uint32_t)c.pid;
	goprof_session_foreach_process(s, get_note, &nc);
	cr_log_info("process note: %s", nc.note);
	cr_expect(strstr(nc.note, "goroutine list"), "note: '%s'", nc.note);
	/* the rest goes on: CPU samples are taken and symbolized */
	cpu = goprof_session_snapshot_cpu(s, 0);
	cr_expect_not_null(cpu);
	goprof_profile_free(cpu);
	child_close_stdin(&c);
	cr_expect_eq(child_wait(&c), 0);
	goprof_session_free(s);
	unlink(path);
}

/* ---- cost ---- */

Test(gsnap, reader_cpu_with_10000_parked_goroutines, .timeout = 60)
{
	const char *ver = fixture_go_versions()[fixture_go_versions()[1] ? 1 : 0];
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_GOROUTINE_SNAPSHOTS);
	struct goprof_session_stats st0 = { .sz = sizeof(st0) }, st = { .sz = sizeof(st) };
	struct goprof_session *s;
	struct child c;
	double t0, elapsed, share;

	require_bpf_privileges();
	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	start_fixture(&c, fixture_path("gsnap", ver), 10000, 0, NULL, s);
	/* the first snapshot (and opening the binary) at once; then the steady rate */
	goprof_session_poll(s, 0);
	cr_assert_eq(goprof_session_stats(s, &st0), 0);
	t0 = mono_seconds();
	while (mono_seconds() - t0 < 6.0)
		goprof_session_poll(s, 100);
	elapsed = mono_seconds() - t0;
	cr_assert_eq(goprof_session_stats(s, &st), 0);
	share = (double)(st.snapshot_cpu_ns - st0.snapshot_cpu_ns) / (elapsed * 1e9);
	cr_log_info("go%s, 10,000 parked goroutines, default rate: first snapshot %.1f ms of CPU "
		    "(%.0f ns per goroutine, opening the binary included); then %llu snapshots in "
		    "%.1f s: reader CPU %.3f%% of one core; interval %u ms", ver,
		    st0.snapshot_cpu_ns / 1e6,
		    st0.snapshot_goroutines_read ? (double)st0.snapshot_cpu_ns / st0.snapshot_goroutines_read : 0,
		    (unsigned long long)(st.goroutine_snapshots - st0.goroutine_snapshots), elapsed,
		    100 * share, st.snapshot_interval_ms);
	cr_expect_eq(st0.goroutine_snapshots, 1);
	cr_expect_geq(st0.snapshot_goroutines_read, 10000);
	/* the budget spaces them: the interval is the last snapshot's cost / 1% */
	cr_expect_geq(st.snapshot_interval_ms, 1000, "the interval is below the default");
	/* The sanitizer pass (GOPROF_SANITIZED) checks memory, not cost: the library runs
	 * about 2x slower there. */
	if (!getenv("GOPROF_SANITIZED"))
		cr_expect_lt(share, 0.02, "the reader used %.2f%% of a core", 100 * share);
	child_close_stdin(&c);
	cr_expect_eq(child_wait(&c), 0);
	goprof_session_free(s);
}

/* ---- the precise mode's uprobes: per process ---- */

struct fn_range {
	const char *name;
	uint64_t entry, end;
};

static int find_fn(const struct goprof_function *f, void *ctx)
{
	struct fn_range *r = ctx;

	if (strcmp(f->name, r->name))
		return 0;
	r->entry = f->entry;
	r->end = f->end;
	return 1;
}

/* Breakpoints (int3) in runtime.goexit1 of process pid that the file does not have. */
static int breakpoints_in(int pid, const struct fn_range *r, const uint8_t *file_bytes)
{
	uint8_t mem[4096];
	char path[64];
	int fd, n = 0;
	size_t len = (size_t)(r->end - r->entry);

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, mem, len, (off_t)r->entry), (ssize_t)len);
	close(fd);
	for (size_t i = 0; i < len; i++)
		n += mem[i] == 0xcc && file_bytes[i] != 0xcc;
	return n;
}

Test(gsnap, precise_mode_uprobes_are_per_process, .timeout = 60)
{
	const char *ver = fixture_go_versions()[0];
	const char *path = fixture_path("gsnap", ver);
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_GOROUTINES);
	struct fn_range r = { .name = "runtime.goexit1" };
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s;
	struct goprof_binary *bin;
	struct child a, b;
	uint8_t file_bytes[4096];
	char line[64];
	char *argv[] = { (char *)path, "10", "0", NULL };
	int in_a, in_b;

	require_bpf_privileges();
	bin = goprof_binary_open(path, NULL);
	cr_assert_not_null(bin);
	cr_assert_eq(goprof_binary_foreach_function(bin, find_fn, &r), 1);
	cr_assert(r.end > r.entry && r.end - r.entry <= sizeof(file_bytes));
	goprof_binary_free(bin);
	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	child_start(&b, argv); /* the same executable, not attached */
	cr_assert(child_read_line(&b, line, sizeof(line)) && !strcmp(line, "waiting"));
	child_write_line(&b, "go");
	start_fixture(&a, path, 10, 0, NULL, s);
	{
		/* the file's own bytes of the function (ET_EXEC: file offset from the segment) */
		int fd = open(path, O_RDONLY);
		char maps[64], l[512];
		FILE *m;
		uint64_t lo, hi, off;

		snprintf(maps, sizeof(maps), "/proc/%d/maps", b.pid);
		m = fopen(maps, "r");
		cr_assert_not_null(m);
		while (fgets(l, sizeof(l), m))
			if (sscanf(l, "%lx-%lx %*s %lx", &lo, &hi, &off) == 3 && r.entry >= lo && r.entry < hi &&
			    strstr(l, "gsnap"))
				break;
		fclose(m);
		cr_assert_eq(pread(fd, file_bytes, r.end - r.entry, (off_t)(r.entry - lo + off)),
			     (ssize_t)(r.end - r.entry));
		close(fd);
	}
	in_a = breakpoints_in(a.pid, &r, file_bytes);
	in_b = breakpoints_in(b.pid, &r, file_bytes);
	cr_assert_eq(goprof_session_stats(s, &st), 0);
	cr_log_info("runtime.goexit1: %d breakpoints in the attached process, %d in the other "
		    "process of the same file; %u uprobes", in_a, in_b, st.uprobes_installed);
	cr_expect_geq(in_a, 1, "no breakpoint in the attached process");
	cr_expect_eq(in_b, 0, "the process not attached traps too");
	child_close_stdin(&a);
	child_close_stdin(&b);
	cr_expect_eq(child_wait(&a), 0);
	cr_expect_eq(child_wait(&b), 0);
	goprof_session_free(s);
}

/* ---- the wait profile sampled by snapshots ---- */

struct wait_sum {
	double leaky_ns, sleep_ns;
	int64_t leaky_waits;
	bool reason_ok;
};

static int sum_waits(const struct goprof_profile_sample *s, void *ctx)
{
	struct wait_sum *w = ctx;
	const char *reason = "";
	bool leaky = false;

	for (uint32_t i = 0; i < s->nr_labels; i++)
		if (!strcmp(s->labels[i]->key, "wait_reason"))
			reason = s->labels[i]->str;
	for (uint32_t i = 0; i < s->nr_frames; i++)
		leaky |= !strcmp(s->frames[i]->function, "main.leaky");
	if (leaky) {
		w->leaky_ns += (double)s->values[1];
		w->leaky_waits += s->values[0];
		w->reason_ok = !strcmp(reason, "chan receive");
	}
	if (!strcmp(reason, "sleep"))
		w->sleep_ns += (double)s->values[1];
	return 0;
}

Test(gsnap, wait_profile_by_sampling, .timeout = 60)
{
	const char *ver = fixture_go_versions()[0];
	struct goprof_session *s;
	struct goprof_profile *p;
	struct wait_sum w = { 0 };
	struct child c;
	double t0, t1, t2;

	require_bpf_privileges();
	cr_assert(fast_opts_ok(&s, 1000), "%s", goprof_last_error());
	start_fixture(&c, fixture_path("gsnap", ver), LEAKS, CHURN, NULL, s);
	t0 = mono_seconds();
	goprof_session_poll(s, 0); /* the first snapshot: the start of the sampled time */
	t1 = mono_seconds();
	while (mono_seconds() - t0 < 2.0)
		goprof_session_poll(s, 50);
	t2 = mono_seconds();
	p = goprof_session_snapshot_goroutine_waits(s, GOPROF_SNAPSHOT_RESET);
	cr_assert_not_null(p, "%s", goprof_last_error());
	goprof_profile_foreach_sample(p, sum_waits, &w);
	goprof_profile_free(p);
	cr_log_info("go%s: main.leaky parked %.2f s in %lld samples (137 goroutines x %.2f-%.2f s "
		    "sampled = %.2f-%.2f s); sleep %.3f s", ver, w.leaky_ns / 1e9,
		    (long long)w.leaky_waits, t2 - t1 - 0.25, t2 - t0, LEAKS * (t2 - t1 - 0.25),
		    LEAKS * (t2 - t0), w.sleep_ns / 1e9);
	cr_expect(w.reason_ok, "main.leaky's wait reason");
	/* between the first and the last snapshot of the run: 137 x that time, exactly */
	cr_expect_geq(w.leaky_ns / 1e9, LEAKS * (t2 - t1 - 0.25), "too little parked time");
	cr_expect_leq(w.leaky_ns / 1e9, LEAKS * (t2 - t0) * 1.001, "more parked time than elapsed");
	cr_expect_eq(w.leaky_waits % LEAKS, 0, "every snapshot sees all 137");
	cr_expect_gt(w.sleep_ns, 0, "the short-lived goroutines' sleeps are not sampled");
	/* reset: a new interval */
	p = goprof_session_snapshot_goroutine_waits(s, 0);
	cr_assert_not_null(p);
	memset(&w, 0, sizeof(w));
	goprof_profile_foreach_sample(p, sum_waits, &w);
	goprof_profile_free(p);
	cr_expect_eq(w.leaky_waits, 0, "GOPROF_SNAPSHOT_RESET kept the samples");
	child_close_stdin(&c);
	cr_expect_eq(child_wait(&c), 0);
	goprof_session_free(s);
}

/* ---- channels from the waiting goroutines' sudogs ---- */

struct chan_find {
	int never, full, other;
	uint64_t never_receivers, full_senders, full_cap, full_occ, never_cap;
	char never_site[128], full_site[128];
};

static int find_chans(const struct goprof_snapshot_channel *c, void *ctx)
{
	struct chan_find *f = ctx;

	if (c->waiting_receivers == LEAKS) {
		f->never++;
		f->never_receivers = c->waiting_receivers;
		f->never_cap = c->capacity;
		snprintf(f->never_site, sizeof(f->never_site), "%s", c->site);
	} else if (c->waiting_senders) {
		f->full++;
		f->full_senders = c->waiting_senders;
		f->full_cap = c->capacity;
		f->full_occ = c->occupancy;
		snprintf(f->full_site, sizeof(f->full_site), "%s", c->site);
	} else {
		f->other++;
	}
	return 0;
}

Test(gsnap, channels_from_sudogs, .timeout = 60)
{
	const char *const *vers = fixture_go_versions();

	require_bpf_privileges();
	for (int v = 0; vers[v]; v++) {
		struct goprof_session *s;
		struct goprof_goroutine_snapshot *snap;
		struct chan_find f = { 0 };
		struct child c;

		cr_assert(fast_opts_ok(&s, 1000), "%s", goprof_last_error());
		start_fixture(&c, fixture_path("gsnap-stripped", vers[v]), LEAKS, 0, NULL, s);
		snap = goprof_session_take_goroutine_snapshot(s, c.pid, 0);
		cr_assert_not_null(snap, "%s", goprof_last_error());
		cr_assert_eq(goprof_goroutine_snapshot_foreach_channel(snap, find_chans, &f), 0);
		cr_log_info("go%s: never: %llu receivers, capacity %llu, at %s; full: %llu senders, "
			    "%llu/%llu buffered, at %s; %d other channels", vers[v],
			    (unsigned long long)f.never_receivers, (unsigned long long)f.never_cap,
			    f.never_site, (unsigned long long)f.full_senders,
			    (unsigned long long)f.full_occ, (unsigned long long)f.full_cap, f.full_site,
			    f.other);
		cr_expect_eq(f.never, 1);
		cr_expect_eq(f.never_cap, 0);
		cr_expect_str_eq(f.never_site, "main.leaky");
		cr_expect_eq(f.full, 1);
		cr_expect_eq(f.full_senders, 5);
		cr_expect_eq(f.full_cap, 3);
		cr_expect_eq(f.full_occ, 3);
		cr_expect_str_eq(f.full_site, "main.sender");
		goprof_goroutine_snapshot_free(snap);
		child_close_stdin(&c);
		cr_expect_eq(child_wait(&c), 0);
		goprof_session_free(s);
	}
}

/* ---- growth: a site that creates goroutines that never end ---- */

struct growth {
	uint32_t pid;
	int64_t growth_per_min;
	uint64_t count, parked;
};

static int find_growth(const struct goprof_goroutine_leak *l, void *ctx)
{
	struct growth *g = ctx;

	if (l->pid == g->pid && !strcmp(l->top_function, "main.leakyRate")) {
		g->growth_per_min = l->growth_per_min;
		g->count = l->count;
		g->parked = l->parked;
	}
	return 0;
}

Test(gsnap, leak_growth_rate, .timeout = 60)
{
	const char *ver = fixture_go_versions()[0];
	struct goprof_session *s;
	struct growth gr = { 0 };
	struct child c;
	double t0;

	require_bpf_privileges();
	cr_assert(fast_opts_ok(&s, 300), "%s", goprof_last_error());
	start_fixture(&c, fixture_path("gsnap", ver), 10, 0, "leakrate", s);
	gr.pid = (uint32_t)c.pid;
	t0 = mono_seconds();
	while (mono_seconds() - t0 < 2.5)
		goprof_session_poll(s, 50);
	goprof_session_foreach_goroutine_leak(s, find_growth, &gr);
	cr_log_info("go%s: main.leakyRate: %llu parked over 300 ms, %llu parked, %+lld per minute "
		    "(the fixture leaks at most 30000 a minute)", ver, (unsigned long long)gr.count,
		    (unsigned long long)gr.parked, (long long)gr.growth_per_min);
	/* 500 a second at most (a 2 ms ticker); a loaded machine runs the ticker late */
	cr_expect_leq(gr.growth_per_min, 30000 * 1.05);
	cr_expect_geq(gr.growth_per_min, 30000 * 0.3, "the growth is not seen");
	cr_expect_gt(gr.count, 0);
	child_close_stdin(&c);
	cr_expect_eq(child_wait(&c), 0);
	goprof_session_free(s);
}
