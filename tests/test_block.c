// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Goroutine blocking profile and channel statistics against the chanblock fixture, which
 * measures its own blocked time around each blocking operation and can record Go's own
 * block profile of the same run:
 * - unbuffered: the send site main.sendSlow gets reason "chan send" and the time the
 *   fixture measured (+-10%); its share against main.waitTicks agrees with Go's block
 *   profile (+-10 points); the channel shows its sends mostly blocked; all of it read
 *   after the fixture exited;
 * - buffered: the blocking at the send site is mostly gone, and the buffer fills;
 * - mutex and select: their own wait reasons;
 * - a channel ping-pong as fast as it goes: the default overhead budget detaches both
 *   probe sets with an event naming them, and the target is unharmed;
 * - the wait reason tables equal waitReasonStrings of every installed toolchain.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "caps/block/block_table.h"
#include "test_common.h"
#include "go/wait_reasons.h"

#define MAX_SITES 8

/* Blocked time by the first main.* frame of the stack and the wait reason. */
struct site_time {
	char function[64], reason[32];
	int64_t count, ns;
};

struct block_run {
	struct site_time ours[64];
	int nr_ours;
	struct { char function[64]; int64_t ns, count; } measured[MAX_SITES];
	int nr_measured;
	struct goprof_channel_stats work; /* the channel main.sendSlow sends on */
	bool have_work;
	uint64_t block_events, lost;
};

static const char *label_of(const struct goprof_profile_sample *s, const char *key)
{
	for (uint32_t i = 0; i < s->nr_labels; i++)
		if (!strcmp(s->labels[i]->key, key) && s->labels[i]->str)
			return s->labels[i]->str;
	return "";
}

static int add_sample(const struct goprof_profile_sample *s, void *ctx)
{
	struct block_run *r = ctx;
	const char *fn = "", *reason = label_of(s, "wait_reason");
	int i;

	for (uint32_t f = 0; f < s->nr_frames; f++)
		if (!strncmp(s->frames[f]->function, "main.", 5)) {
			fn = s->frames[f]->function;
			break;
		}
	for (i = 0; i < r->nr_ours; i++)
		if (!strcmp(r->ours[i].function, fn) && !strcmp(r->ours[i].reason, reason))
			break;
	if (i == r->nr_ours) {
		if (i == (int)ARRAY_SIZE(r->ours))
			return 0;
		snprintf(r->ours[i].function, sizeof(r->ours[i].function), "%s", fn);
		snprintf(r->ours[i].reason, sizeof(r->ours[i].reason), "%s", reason);
		r->nr_ours++;
	}
	r->ours[i].count += s->values[0];
	r->ours[i].ns += s->values[1];
	return 0;
}

static int find_work_channel(const struct goprof_channel_stats *c, void *ctx)
{
	struct block_run *r = ctx;

	/* First used by a sender or by the consumer, whichever ran first. */
	if (strstr(c->site, "main.sendSlow") || strstr(c->site, "main.consume")) {
		r->work = *c;
		r->have_work = true;
	}
	return 0;
}

/* Our blocked time at function with reason ("" for any reason). */
static int64_t ours_ns(const struct block_run *r, const char *function, const char *reason)
{
	int64_t ns = 0;

	for (int i = 0; i < r->nr_ours; i++)
		if (!strcmp(r->ours[i].function, function) && (!reason[0] || !strcmp(r->ours[i].reason, reason)))
			ns += r->ours[i].ns;
	return ns;
}

static int64_t measured_ns(const struct block_run *r, const char *function)
{
	for (int i = 0; i < r->nr_measured; i++)
		if (!strcmp(r->measured[i].function, function))
			return r->measured[i].ns;
	return 0;
}

/* Runs the fixture in mode for secs; reads everything after it exited. */
static void run_fixture(const char *fixture, const char *mode, const char *secs,
			const char *go_profile, struct block_run *r)
{
	char *argv[] = { (char *)fixture, (char *)mode, (char *)secs, NULL, NULL, NULL };
	GOPROF_OPTS(goprof_session_opts, opts,
		    .features = GOPROF_FEATURE_BLOCK | GOPROF_FEATURE_CHANNELS,
		    .overhead_budget_bp = 10000 /* measure, do not let the budget step in */);
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s;
	struct goprof_profile *p;
	struct child c;
	char line[256];

	if (go_profile) {
		argv[0] = (char *)fixture;
		argv[1] = "-blockprofile";
		argv[2] = (char *)go_profile;
		argv[3] = (char *)mode;
		argv[4] = (char *)secs;
	}
	memset(r, 0, sizeof(*r));
	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	child_start_attached(&c, argv, s);
	while (child_read_line_polling(&c, line, sizeof(line), s) && strcmp(line, "done")) {
		char fn[64];
		long long ns, count;

		if (sscanf(line, "site %63s %lld %lld", fn, &ns, &count) == 3 && r->nr_measured < MAX_SITES) {
			snprintf(r->measured[r->nr_measured].function, sizeof(fn), "%s", fn);
			r->measured[r->nr_measured].ns = ns;
			r->measured[r->nr_measured++].count = count;
		}
	}
	cr_assert_str_eq(line, "done");
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0, "the fixture was harmed by the probes");
	/* The process is gone: what was measured must still be there. */
	while (goprof_session_poll(s, 50) > 0)
		;
	p = goprof_session_snapshot_block(s, 0);
	cr_assert_not_null(p, "%s", goprof_last_error());
	goprof_profile_foreach_sample(p, add_sample, r);
	goprof_profile_free(p);
	cr_assert_eq(goprof_session_foreach_channel(s, find_work_channel, r), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_stats(s, &st), 0);
	r->block_events = st.block_events;
	r->lost = st.lost_block_events + st.lost_channels;
	goprof_session_free(s);
}

ParameterizedTestParameters(block, chan_send_time_at_the_send_site)
{
	static struct fixture_variant v[32];

	return cr_make_param_array(struct fixture_variant, v, fixture_variants(v, 32));
}

ParameterizedTest(struct fixture_variant *v, block, chan_send_time_at_the_send_site, .timeout = 90)
{
	static const char *const names[] = { "main.sendSlow", "main.waitTicks" };
	const char *ver = fixture_go_versions()[v->version_index];
	const char *fixture = fixture_path(v->stripped ? "chanblock-stripped" : "chanblock", ver);
	char prof[] = "/tmp/goprof-block-XXXXXX";
	double flat[2], cum[2], go_share, our_share, go_send, low;
	int64_t send, send_measured, ticks, buffered_send;
	struct block_run *r = calloc(1, sizeof(*r));
	int fd;

	require_bpf_privileges();
	fd = mkstemp(prof);
	cr_assert_geq(fd, 0);
	close(fd);
	run_fixture(fixture, "unbuffered", "1.2", prof, r);
	send = ours_ns(r, "main.sendSlow", "chan send");
	send_measured = measured_ns(r, "main.sendSlow");
	ticks = ours_ns(r, "main.waitTicks", "chan receive");
	go_pprof_top(prof, "-cum", names, 2, flat, cum);
	go_send = go_pprof_total(prof, "-unit=ns") * cum[0] / 100;
	unlink(prof);
	cr_assert(cum[0] > 0 && cum[1] > 0, "Go's block profile lacks the sites (%.1f/%.1f)", cum[0], cum[1]);
	go_share = 100.0 * cum[0] / (cum[0] + cum[1]);
	our_share = send + ticks ? 100.0 * send / (send + ticks) : 0;
	cr_log_info("go%s%s unbuffered: chan send at main.sendSlow %.3f s (fixture measured %.3f s), "
		    "Go's block profile %.3f s; share vs main.waitTicks %.1f%% (Go's %.1f%%); channel: %lu of %lu "
		    "sends blocked, p50 %.2f ms, p90 %.2f ms; %lu block events, %lu lost",
		    ver, v->stripped ? " stripped" : "", send / 1e9, send_measured / 1e9, go_send / 1e9,
		    our_share, go_share, (unsigned long)r->work.blocked_sends, (unsigned long)r->work.sends,
		    r->work.send_p50_ns / 1e6, r->work.send_p90_ns / 1e6, (unsigned long)r->block_events,
		    (unsigned long)r->lost);
	cr_expect_gt(send_measured, 0, "the fixture measured nothing");
	/*
	 * The fixture's clock also runs while a woken sender waits for a CPU; ours and Go's
	 * stop when it is made runnable. On an oversubscribed machine that wait reached 17%
	 * (2 cores, load 20): there the lower bound is relaxed, and Go's own measurement of
	 * the same sends keeps the +-10%.
	 */
	low = machine_is_quiet() ? 0.9 : 0.75;
	cr_expect(send > send_measured * low && send < send_measured * 1.1,
		  "go%s: chan send at main.sendSlow %.3f s, the fixture measured %.3f s (-%.0f%%/+10%%)",
		  ver, send / 1e9, send_measured / 1e9, 100 * (1 - low));
	cr_expect(send > go_send * 0.9 && send < go_send * 1.1,
		  "go%s: chan send at main.sendSlow %.3f s, Go's block profile %.3f s (+-10%%)", ver,
		  send / 1e9, go_send / 1e9);
	cr_expect(our_share > go_share - 10 && our_share < go_share + 10,
		  "go%s: main.sendSlow share %.1f%%, Go's block profile %.1f%% (+-10 points)", ver,
		  our_share, go_share);
	cr_expect_eq(r->lost, 0);
	cr_assert(r->have_work, "go%s: no channel first used at main.sendSlow or main.consume", ver);
	cr_expect_eq(r->work.capacity, 0);
	cr_expect(r->work.flags & GOPROF_CHANNEL_EXITED);
	cr_expect_gt(r->work.blocked_sends * 2, r->work.sends, "go%s: %lu of %lu sends blocked", ver,
		     (unsigned long)r->work.blocked_sends, (unsigned long)r->work.sends);
	/* The same parks, seen from the channel. */
	cr_expect(r->work.send_blocked_ns > send * 0.98 && r->work.send_blocked_ns < send * 1.02,
		  "go%s: channel send time %.3f s, profile %.3f s", ver, r->work.send_blocked_ns / 1e9,
		  send / 1e9);
	/* Three senders behind a 1 ms consumer: about 2 ms per send. */
	cr_expect_geq(r->work.send_p50_ns, 1000000, "go%s: send p50 %.3f ms", ver, r->work.send_p50_ns / 1e6);

	run_fixture(fixture, "buffered", "1", NULL, r);
	buffered_send = ours_ns(r, "main.sendSlow", "chan send");
	cr_log_info("go%s%s buffered: chan send at main.sendSlow %.3f s (fixture measured %.3f s); "
		    "channel capacity %u, max occupancy %lu, %lu of %lu sends blocked", ver,
		    v->stripped ? " stripped" : "", buffered_send / 1e9,
		    measured_ns(r, "main.sendSlow") / 1e9, r->work.capacity,
		    (unsigned long)r->work.max_occupancy, (unsigned long)r->work.blocked_sends,
		    (unsigned long)r->work.sends);
	cr_expect_lt(buffered_send * 10, send, "go%s: buffered sends still blocked %.3f s (unbuffered %.3f s)",
		     ver, buffered_send / 1e9, send / 1e9);
	cr_assert(r->have_work, "go%s: no channel first used at main.sendSlow or main.consume", ver);
	cr_expect_eq(r->work.capacity, 100000);
	/* Producers outrun the consumer: the buffer fills. */
	cr_expect_gt(r->work.max_occupancy, 10, "go%s: max occupancy %lu", ver,
		     (unsigned long)r->work.max_occupancy);
	free(r);
}

ParameterizedTestParameters(block, mutex_and_select_reasons)
{
	static int v[16];
	size_t n = 0;

	for (int i = 0; fixture_go_versions()[i] && n < 16; i++)
		v[n++] = i;
	return cr_make_param_array(int, v, n);
}

ParameterizedTest(int *vi, block, mutex_and_select_reasons, .timeout = 60)
{
	const char *ver = fixture_go_versions()[*vi];
	/* Plain and stripped binaries alternate over the releases. */
	const char *fixture = fixture_path(*vi % 2 ? "chanblock-stripped" : "chanblock", ver);
	/* Go 1.19 parks sync.Mutex waiters as "semacquire"; 1.21 gave them their own reason. */
	const char *mutex_reason = !strcmp(ver, "1.19") ? "semacquire" : "sync.Mutex.Lock";
	struct block_run *r = calloc(1, sizeof(*r));
	int64_t lock, lock_any, lock_measured, sel, sel_any, sel_measured;

	require_bpf_privileges();
	run_fixture(fixture, "mutex", "1", NULL, r);
	lock = ours_ns(r, "main.lockShared", mutex_reason);
	/* It also sleeps while it holds the lock. */
	lock_any = ours_ns(r, "main.lockShared", "") - ours_ns(r, "main.lockShared", "sleep");
	lock_measured = measured_ns(r, "main.lockShared");
	run_fixture(fixture, "select", "1", NULL, r);
	sel = ours_ns(r, "main.selectWait", "select");
	sel_any = ours_ns(r, "main.selectWait", "");
	sel_measured = measured_ns(r, "main.selectWait");
	cr_log_info("go%s: main.lockShared %s %.3f s of %.3f s parked (sleep aside) (fixture measured %.3f s); "
		    "main.selectWait select %.3f s of %.3f s (measured %.3f s)", ver, mutex_reason,
		    lock / 1e9, lock_any / 1e9, lock_measured / 1e9, sel / 1e9, sel_any / 1e9,
		    sel_measured / 1e9);
	/* Lock() also spins before it parks, so the fixture's time is an upper bound. */
	cr_expect(lock > lock_measured * 0.75 && lock < lock_measured * 1.1,
		  "go%s: %s at main.lockShared %.3f s, measured %.3f s", ver, mutex_reason, lock / 1e9,
		  lock_measured / 1e9);
	cr_expect_gt(lock * 10, lock_any * 9, "go%s: other reasons at main.lockShared", ver);
	/* As for sends: run-queue waits count on the fixture's clock only. */
	cr_expect(sel > sel_measured * (machine_is_quiet() ? 0.9 : 0.75) && sel < sel_measured * 1.1,
		  "go%s: select at main.selectWait %.3f s, measured %.3f s", ver, sel / 1e9,
		  sel_measured / 1e9);
	cr_expect_gt(sel * 10, sel_any * 9, "go%s: other reasons at main.selectWait", ver);
	free(r);
}

/*
 * Every installed toolchain's wait reasons equal our table: the numbering is the order of
 * the waitReason constants (iota), the string is waitReasonStrings[constant].
 */
Test(block, wait_reasons_match_toolchain_sources)
{
	const char *const *versions = fixture_all_go_versions();

	for (int i = 0; versions[i]; i++) {
		char path[256], line[512], version[32], consts[64][48], key[48], name[64];
		const struct gp_wait_reasons *w;
		uint32_t n = 0, checked = 0;
		int in_consts = 0, in_strings = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/opt/libgoprof/go-%s/src/runtime/runtime2.go", versions[i]);
		snprintf(version, sizeof(version), "go%s.0", versions[i]);
		w = gp_wait_reasons_of(version);
		cr_assert_not_null(w, "%s", goprof_last_error());
		f = fopen(path, "r");
		cr_assert_not_null(f, "%s", path);
		while (fgets(line, sizeof(line), f)) {
			if (strstr(line, "waitReasonZero") && strstr(line, "= iota"))
				in_consts = 1;
			if (strstr(line, "var waitReasonStrings = [...]string{"))
				in_strings = 1;
			else if (in_consts && line[0] == ')')
				in_consts = 0;
			else if (in_strings && line[0] == '}')
				in_strings = 0;
			if (in_consts && sscanf(line, " %47[A-Za-z]", key) == 1 && !strncmp(key, "waitReason", 10)) {
				cr_assert_lt(n, 64);
				snprintf(consts[n++], sizeof(consts[0]), "%s", key);
			} else if (in_strings && sscanf(line, " %47[A-Za-z]: \"%63[^\"]\"", key, name) >= 1) {
				if (!strchr(line, '"') || strstr(line, "\"\""))
					name[0] = '\0';
				for (uint32_t k = 0; k < n; k++) {
					if (strcmp(consts[k], key))
						continue;
					cr_assert_lt(k, w->nr, "go%s: %s is reason %u, our table has %u",
						     versions[i], key, k, w->nr);
					cr_expect_str_eq(w->names[k], name, "go%s reason %u (%s)", versions[i], k, key);
					checked++;
				}
			}
		}
		fclose(f);
		cr_expect_eq(n, w->nr, "go%s: %u reasons in the source, %u in our table", versions[i], n, w->nr);
		cr_expect_eq(checked, n, "go%s: %u of %u strings found", versions[i], checked, n);
		cr_expect_str_eq(w->names[w->chan_send], "chan send");
		cr_expect_str_eq(w->names[w->chan_recv], "chan receive");
	}
}

Test(block, unknown_release_and_bad_options_are_clear_errors)
{
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_CHANNELS);
	struct goprof_session *s;

	cr_assert_null(gp_wait_reasons_of("go1.18.3"));
	cr_expect(strstr(goprof_last_error(), "go1.18.3"), "%s", goprof_last_error());
	cr_assert_not_null(gp_wait_reasons_of("go1.25.1"), "derived, not measured, but known");
	require_bpf_privileges();
	cr_assert_null(goprof_session_new(&opts));
	cr_expect(strstr(goprof_last_error(), "GOPROF_FEATURE_BLOCK"), "%s", goprof_last_error());
	s = goprof_session_new(NULL);
	cr_assert_not_null(s, "%s", goprof_last_error());
	cr_expect_null(goprof_session_snapshot_block(s, 0));
	cr_expect(strstr(goprof_last_error(), "GOPROF_FEATURE_BLOCK"), "%s", goprof_last_error());
	cr_expect_eq(goprof_session_foreach_channel(s, find_work_channel, NULL), -EINVAL);
	goprof_session_free(s);
}

struct detached {
	int block, channels;
	char message[256];
};

static int on_event(const struct goprof_event *e, void *ctx)
{
	struct detached *d = ctx;

	if (e->type != GOPROF_EVENT_PROBE_DETACHED)
		return 0;
	snprintf(d->message, sizeof(d->message), "%s", e->message);
	d->block += strstr(e->message, "runtime.gopark") != NULL;
	d->channels += strstr(e->message, "runtime.chansend") != NULL;
	return 0;
}

/* Goroutines of pid in the kernel's map of parked goroutines (every session's). */
static int parked_entries(int pid)
{
	char cmd[128], needle[32];
	int n = 0, c, matched = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "bpftool -j map dump name parked 2>/dev/null");
	snprintf(needle, sizeof(needle), "\"pid\":%d,", pid);
	p = popen(cmd, "r");
	cr_assert(p);
	while ((c = fgetc(p)) != EOF) {
		matched = c == needle[matched] ? matched + 1 : c == needle[0];
		if (!needle[matched]) {
			n++;
			matched = 0;
		}
	}
	pclose(p);
	return n;
}

static int count_counted(const struct goprof_channel_stats *c, void *ctx)
{
	int *n = ctx;

	n[0]++;
	n[1] += !!(c->flags & GOPROF_CHANNEL_OPS_COUNTED);
	return 0;
}

Test(block, budget_detaches_probes_from_a_channel_heavy_target, .timeout = 60)
{
	int channels[2] = { 0, 0 }; /* seen, still counted */
	int parked_before, parked_after;
	const char *ver = fixture_go_versions()[0];
	char *argv[] = { (char *)fixture_path("chanblock", ver), "pingpong", "2.5", NULL };
	struct detached d = { 0 };
	GOPROF_OPTS(goprof_session_opts, opts,
		    .features = GOPROF_FEATURE_BLOCK | GOPROF_FEATURE_CHANNELS,
		    .on_event = on_event, .ctx = &d); /* default budget: 1% */
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s;
	struct child c;
	char line[64];

	require_bpf_privileges();
	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	child_start_attached(&c, argv, s);
	while (child_read_line_polling(&c, line, sizeof(line), s) && strcmp(line, "done"))
		;
	/* Parked for good (main.leak), or when the probes left: the process's exit drops them. */
	parked_before = parked_entries(c.pid);
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0, "the fixture was harmed by the probes");
	while (goprof_session_poll(s, 50) > 0)
		;
	goprof_session_stats(s, &st); /* reconciles exits */
	parked_after = parked_entries(c.pid);
	cr_log_info("go%s ping-pong: %lu blocks measured before the budget stepped in; %s; "
		    "%d goroutines parked at the end, %d after the exit", ver,
		    (unsigned long)st.block_events, d.message, parked_before, parked_after);
	cr_expect_gt(parked_before, 0, "no parked goroutines seen in the kernel map");
	cr_expect_eq(parked_after, 0, "an exited process's parked goroutines stayed");
	cr_expect_eq(d.block, 1, "the blocking probes were not detached once");
	cr_expect_eq(d.channels, 1, "the channel probes were not detached once");
	cr_expect_eq(st.probe_sets_detached, 2);
	cr_expect_gt(st.block_events, 0);
	cr_assert_eq(goprof_session_foreach_channel(s, count_counted, channels), 0);
	cr_expect_gt(channels[0], 0, "the ping-pong's channels were not seen before the detach");
	cr_expect_eq(channels[1], 0, "channels claim counted operations after the probes left");
	goprof_session_free(s);
}

static int check_unwound_sample(const struct goprof_profile_sample *s, void *ctx)
{
	int *seen = ctx;

	(*seen)++;
	cr_expect_eq(s->nr_frames, 0, "frames were invented for a stack that was not read");
	cr_expect_str_eq(label_of(s, "unwind"), "failed");
	cr_expect_str_eq(label_of(s, "wait_reason"), "chan send");
	cr_expect_str_eq(label_of(s, "channel"), "0xc000123400");
	cr_expect_eq(s->values[0], 1);
	cr_expect_eq(s->values[1], 2500000);
	return 0;
}

/* A park whose stack could not be read is kept and marked, with no frames made up. */
Test(block, unread_stack_is_marked_not_invented)
{
	struct goprof_symbolizer *sym = goprof_symbolizer_new(NULL);
	struct gp_block_table *t = gp_block_table_new(sym);
	struct gp_block_event ev = {
		.type = GP_REC_BLOCK, .pid = (uint32_t)getpid(), .park_ns = 1000000,
		.wake_ns = 3500000, .goid = 7, .chan = 0xc000123400, .reason = 15,
		.flags = GP_BLOCK_F_NO_STACK, .nr_stack = 0,
	};
	struct goprof_profile *p;
	int seen = 0;

	cr_assert_not_null(t);
	cr_assert_eq(gp_block_table_add(t, &ev, "chan send", "test"), 0);
	p = gp_block_table_snapshot(t);
	cr_assert_not_null(p);
	goprof_profile_foreach_sample(p, check_unwound_sample, &seen);
	cr_expect_eq(seen, 1);
	cr_expect_eq(gp_block_table_events(t), 1);
	goprof_profile_free(p);
	gp_block_table_free(t);
	goprof_symbolizer_free(sym);
}
