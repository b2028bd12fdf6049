// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * A release newer than the newest known one, and build info that lies about the
 * release: copies of fixtures whose .go.buildinfo version string is rewritten (same
 * length), run as real processes. The runtime layout is validated against the live
 * process (lib/go/go_validate.c): a Go 1.27 binary claiming go1.28 gets Go 1.27's layout
 * after validation; a Go 1.23 binary (another layout) claiming go1.28 or go1.27 is
 * refused with a note naming what failed, and no sample gets a goroutine ID.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "go/go_offsets.h"
#include "go/go_validate.h"
#include "goprof/symbolizer.h"
#include "test_common.h"

/* The newest and an older toolchain with a different layout (g.goid 160, not 152). */
#define NEWEST "1.27"
#define OLDER "1.23"

static char tmpdir[] = "/tmp/goprof-future-XXXXXX";
static bool tmpdir_made; /* mkdtemp's random suffix may itself end in 'X' */

static void make_tmpdir(void)
{
	if (!tmpdir_made)
		cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	tmpdir_made = true;
}

static void *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	void *buf;
	long n;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	cr_assert(buf && fread(buf, 1, (size_t)n, f) == (size_t)n, "reading %s", path);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/*
 * Copies src to tmpdir/name with the build info's version "go1.MINOR..." claiming
 * go1.<claim> instead (claim has as many digits as the minor: same length, nothing else
 * moves). The version string is inline (flag bit 2) after the 32-byte header, prefixed by
 * its varint length. Returns the copy's path (static buffer per call site: copy it).
 */
static const char *patch_version(const char *src, const char *name, const char *claim,
				  char *out, size_t out_len)
{
	static const char magic[] = "\xff Go buildinf:";
	size_t len, vlen;
	uint8_t *b = slurp(src, &len), *p = NULL, *v;
	FILE *f;

	for (size_t i = 0; i + 64 < len && !p; i += 16) /* the section is 16-byte aligned */
		if (!memcmp(b + i, magic, 14))
			p = b + i;
	cr_assert_not_null(p, "%s: no .go.buildinfo", src);
	cr_assert(p[15] & 2, "%s: build info without inline strings", src);
	vlen = p[32]; /* a one-byte varint: versions are shorter than 128 bytes */
	v = p + 33;
	cr_assert(vlen > 5 && vlen < 64 && !memcmp(v, "go1.", 4), "%s: version '%.*s'", src, (int)vlen, v);
	cr_assert(v[6] == '.' || v[6] == 'r', "%s: version %.*s: a two-digit minor expected", src,
		  (int)vlen, v);
	memcpy(v + 4, claim, 2);
	make_tmpdir();
	snprintf(out, out_len, "%s/%s", tmpdir, name);
	f = fopen(out, "wb");
	cr_assert_not_null(f, "%s: %s", out, strerror(errno));
	cr_assert_eq(fwrite(b, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(chmod(out, 0755), 0);
	cr_log_info("%s: %s claims %.*s", out, src, (int)vlen, v);
	free(b);
	return out;
}

static const char *stripped_copy(const char *src, const char *name, char *out, size_t out_len)
{
	char cmd[8192];

	make_tmpdir();
	snprintf(out, out_len, "%s/%s", tmpdir, name);
	snprintf(cmd, sizeof(cmd), "strip -o '%s' '%s'", out, src);
	cr_assert_eq(system(cmd), 0, "%s failed", cmd);
	return out;
}

struct run {
	uint64_t samples, with_goid, labelled;
	struct goprof_process_info info;
};

static int on_sample(const struct goprof_sample *s, void *ctx)
{
	struct run *r = ctx;

	r->samples++;
	r->with_goid += s->goid != 0;
	for (uint32_t i = 0; i < s->nr_labels; i++)
		if (!strcmp(s->labels[i]->key, "work") && s->goid)
			r->labelled++;
	return 0;
}

static int keep_process(const struct goprof_process_info *p, void *ctx)
{
	struct run *r = ctx;

	if (p->flags & GOPROF_PROCESS_GO)
		r->info = *p; /* the fixture (attach_exe also sees the shell-less exec only) */
	return 0;
}

/* Runs allcaps at path for 2 s under a CPU + goroutine session (attached by PID, or by
 * executable before it starts: then it is inspected at its exec); fills r. */
static void run_allcaps_by(const char *path, bool by_exe, struct run *r)
{
	char *argv[] = { (char *)path, "2", NULL };
	GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = 499,
		    .features = GOPROF_FEATURE_GOROUTINES, .overhead_budget_bp = 10000,
		    .on_sample = on_sample, .ctx = r);
	struct goprof_session *s;
	char line[128];
	struct child c;

	memset(r, 0, sizeof(*r));
	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	if (by_exe) {
		cr_assert_eq(goprof_session_attach_exe(s, path, NULL), 0, "%s", goprof_last_error());
		child_start(&c, argv);
		cr_assert(child_read_line_polling(&c, line, sizeof(line), s) && !strcmp(line, "waiting"));
		child_write_line(&c, "go");
	} else {
		child_start_attached(&c, argv, s);
	}
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s) && !strncmp(line, "done", 4),
		  "%s: %s", path, line);
	for (int i = 0; i < 4; i++)
		goprof_session_poll(s, 50);
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0, "%s: the fixture failed", path);
	while (goprof_session_poll(s, 50) > 0)
		;
	goprof_session_foreach_process(s, keep_process, r);
	goprof_session_free(s);
	cr_log_info("%s: flags 0x%x, note '%s'; %lu samples, %lu with a goroutine, %lu labelled",
		    path, r->info.flags, r->info.note, (unsigned long)r->samples,
		    (unsigned long)r->with_goid, (unsigned long)r->labelled);
	cr_assert_gt(r->samples, 50, "%s: too few CPU samples to judge", path);
}

static void run_allcaps(const char *path, struct run *r)
{
	run_allcaps_by(path, false, r);
}

static void expect_refused(const struct run *r, const char *claim)
{
	cr_expect(r->info.flags & GOPROF_PROCESS_GO, "flags 0x%x", r->info.flags);
	cr_expect_eq(r->info.flags & (GOPROF_PROCESS_GOROUTINES | GOPROF_PROCESS_LAYOUT_VALIDATED |
				      GOPROF_PROCESS_RUNTIME_PROBES), 0,
		     "claims %s: layout accepted (flags 0x%x, note '%s')", claim, r->info.flags,
		     r->info.note);
	/* Caught by the live check, or before it by the pclntab's era (lib/sym). */
	cr_expect(strstr(r->info.note, "does not fit") || strstr(r->info.note, "not trusted"),
		  "note: '%s'", r->info.note);
	cr_expect(strstr(r->info.go_version, claim) == r->info.go_version, "version %s",
		  r->info.go_version);
	cr_expect_eq(r->with_goid, 0, "claims %s: %lu samples got a goroutine ID from a wrong layout",
		     claim, (unsigned long)r->with_goid);
}

/* (a) Go 1.27's layout is 1.28's here: validated and used. */
Test(future_release, newer_release_with_the_newest_layout_is_validated_and_used, .timeout = 120)
{
	char path[4096];
	struct run r;

	require_bpf_privileges();
	patch_version(fixture_path("allcaps", NEWEST), "allcaps-claims-go1.28", "28", path, sizeof(path));
	run_allcaps(path, &r);
	cr_expect(!strncmp(r.info.go_version, "go1.28", 6), "version %s", r.info.go_version);
	cr_expect(r.info.flags & GOPROF_PROCESS_GOROUTINES, "no goroutine context: %s", r.info.note);
	cr_expect(r.info.flags & GOPROF_PROCESS_LAYOUT_VALIDATED, "not validated: %s", r.info.note);
	cr_expect(r.info.flags & GOPROF_PROCESS_RUNTIME_PROBES, "no runtime probes: %s", r.info.note);
	cr_expect(strstr(r.info.note, "validated"), "note: '%s'", r.info.note);
	cr_expect_gt(r.with_goid, r.samples / 2, "%lu of %lu samples with a goroutine ID",
		     (unsigned long)r.with_goid, (unsigned long)r.samples);
	cr_expect_gt(r.labelled, 0, "no sample with labels");
}

/*
 * (a) by executable: the process is inspected at its exec, before its runtime has
 * goroutines to check; it is judged again while it starts, and validated.
 */
Test(future_release, newer_release_attached_by_exe_is_validated_after_start, .timeout = 120)
{
	char path[4096];
	struct run r;

	require_bpf_privileges();
	patch_version(fixture_path("allcaps", NEWEST), "allcaps-claims-go1.28-exe", "28", path, sizeof(path));
	run_allcaps_by(path, true, &r);
	cr_expect(r.info.flags & GOPROF_PROCESS_LAYOUT_VALIDATED, "not validated: %s", r.info.note);
	cr_expect(r.info.flags & GOPROF_PROCESS_RUNTIME_PROBES, "no runtime probes: %s", r.info.note);
	cr_expect_gt(r.with_goid, r.samples / 2, "%lu of %lu samples with a goroutine ID",
		     (unsigned long)r.with_goid, (unsigned long)r.samples);
	cr_expect_gt(r.labelled, 0, "no sample with labels");
}

/* (c) by executable: a known release with a wrong layout, caught once it starts. */
Test(future_release, known_release_with_another_layout_by_exe_is_caught, .timeout = 120)
{
	char path[4096];
	struct run r;

	require_bpf_privileges();
	patch_version(fixture_path("allcaps", OLDER), "allcaps-go1.23-claims-go1.27-exe", "27", path,
		      sizeof(path));
	run_allcaps_by(path, true, &r);
	cr_expect_eq(r.info.flags & (GOPROF_PROCESS_GOROUTINES | GOPROF_PROCESS_LAYOUT_VALIDATED), 0,
		     "layout accepted (flags 0x%x, note '%s')", r.info.flags, r.info.note);
	cr_expect(strstr(r.info.note, "does not fit") || strstr(r.info.note, "not trusted"),
		  "note: '%s'", r.info.note);
	/* Samples before the runtime started could not be judged; none after it. */
	cr_expect_lt(r.with_goid, r.samples / 20 + 1, "%lu of %lu samples with a goroutine ID",
		     (unsigned long)r.with_goid, (unsigned long)r.samples);
}

/* (b) Go 1.23's layout (g.goid 160) claimed as go1.28: the newest layout does not fit. */
Test(future_release, newer_release_with_another_layout_is_refused, .timeout = 120)
{
	char path[4096];
	struct run r;

	require_bpf_privileges();
	patch_version(fixture_path("allcaps", OLDER), "allcaps-go1.23-claims-go1.28", "28", path,
		      sizeof(path));
	run_allcaps(path, &r);
	expect_refused(&r, "go1.28");
	cr_expect(strstr(r.info.note, "Go 1.27") || strstr(r.info.note, "not trusted"), "note: '%s'",
		  r.info.note);
}

/* (c) A known release that is not the binary's: caught, not trusted. */
Test(future_release, known_release_claimed_by_another_layout_is_caught, .timeout = 120)
{
	char path[4096];
	struct run r;

	require_bpf_privileges();
	patch_version(fixture_path("allcaps", OLDER), "allcaps-go1.23-claims-go1.27", "27", path,
		      sizeof(path));
	run_allcaps(path, &r);
	expect_refused(&r, "go1.27");
}

/*
 * (c) within one pclntab era, where the symbolizer cannot tell the releases apart: Go 1.22
 * (g.goid 152) claiming go1.23 (160). Only the live check can catch this one.
 */
Test(future_release, known_release_of_the_same_era_is_caught_live, .timeout = 120)
{
	char path[4096];
	struct run r;

	require_bpf_privileges();
	patch_version(fixture_path("allcaps", "1.22"), "allcaps-go1.22-claims-go1.23", "23", path,
		      sizeof(path));
	run_allcaps(path, &r);
	expect_refused(&r, "go1.23");
	cr_expect(strstr(r.info.note, "does not fit"), "note: '%s'", r.info.note);
}

/* An honest known release is validated too, and keeps everything. */
Test(future_release, honest_release_is_validated, .timeout = 120)
{
	struct run r;

	require_bpf_privileges();
	run_allcaps(fixture_path("allcaps", OLDER), &r);
	cr_expect(r.info.flags & GOPROF_PROCESS_LAYOUT_VALIDATED, "not validated: %s", r.info.note);
	cr_expect_eq(r.info.note[0], '\0', "note: '%s'", r.info.note);
	cr_expect_gt(r.labelled, 0, "no sample with labels");
}

/*
 * The validator alone against every toolchain's fixture, plain and stripped (goroutine
 * list found through runtime.forEachG's operands), with its own layout and with every
 * other release's: the right one passes, a different one fails. Needs no BPF: reading
 * a child's memory needs only ptrace access, which a parent has.
 */
static int validate_pid(pid_t pid, const char *path, const char *version, struct gp_validate_stats *st,
			char *why, size_t why_len)
{
	GOPROF_OPTS(goprof_binary_opts, bo, .allow_newer_go = 1);
	struct goprof_binary *bin = goprof_binary_open(path, &bo);
	struct gp_target t;
	int err;

	cr_assert_not_null(bin, "%s: %s", path, goprof_last_error());
	cr_assert_eq(gp_go_offsets(version, &t), 0, "%s", goprof_last_error());
	/* Too little to judge (all goroutines parked a moment): again later, as the session
	 * does (every 50 ms for up to 5 s). */
	for (int i = 0; i < 100; i++) {
		err = gp_go_validate(pid, bin, &t, true, st, why, why_len);
		if (err != -EAGAIN)
			break;
		usleep(50000);
	}
	goprof_binary_free(bin);
	return err;
}

Test(future_release, validator_accepts_the_right_layout_and_only_it, .timeout = 120)
{
	const char *const *versions = fixture_all_go_versions();

	for (int i = 0; versions[i]; i++) {
		for (int stripped = 0; stripped < 2; stripped++) {
			char name[64], copy[4096], why[128], own[16], line[64];
			const char *path = fixture_path("allcaps", versions[i]);
			char *argv[] = { NULL, "1", NULL };
			struct gp_validate_stats st;
			struct child c;
			int err;

			if (stripped) {
				snprintf(name, sizeof(name), "allcaps-stripped-go%s", versions[i]);
				path = stripped_copy(path, name, copy, sizeof(copy));
			}
			argv[0] = (char *)path;
			snprintf(own, sizeof(own), "go%s.0", versions[i]);
			child_start(&c, argv);
			cr_assert(child_read_line(&c, line, sizeof(line)) && !strcmp(line, "waiting"));
			/* Just started and waiting on stdin; then running. */
			for (int phase = 0; phase < 2; phase++) {
				err = validate_pid(c.pid, path, own, &st, why, sizeof(why));
				cr_expect_eq(err, 0, "%s (%s): own layout refused: %s", path,
					     phase ? "running" : "waiting", why);
				cr_log_info("%s %s: valid in %.2f ms, %u attempt(s), %u of %u goroutines "
					    "live, %u on a thread", path, phase ? "running" : "waiting",
					    st.elapsed_ns / 1e6, st.attempts, st.checked, st.allglen,
					    st.on_thread);
				cr_expect_lt(st.elapsed_ns, 100000000ull, "validation took %.1f ms",
					     st.elapsed_ns / 1e6);
				for (int j = 0; versions[j]; j++) {
					char other[16];
					struct gp_target a, b;

					snprintf(other, sizeof(other), "go%s.0", versions[j]);
					gp_go_offsets(own, &a);
					gp_go_offsets(other, &b);
					if (a.g_goid == b.g_goid && a.m_curg == b.m_curg && a.g_labels == b.g_labels &&
					    a.labels_layout == b.labels_layout)
						continue; /* the same layout */
					/*
					 * Layouts apart only in the labels (offset: 1.19/1.20 against 1.21/1.22;
					 * map or slice: 1.23 against 1.24) are not told apart here: the word
					 * read is 0 or passes as labels of the other shape. Goroutine IDs do not
					 * depend on it; documented in docs/newer-releases.md.
					 */
					if (a.g_goid == b.g_goid && a.m_curg == b.m_curg)
						continue;
					err = validate_pid(c.pid, path, other, &st, why, sizeof(why));
					cr_expect_eq(err, -GOPROF_ERRNO_GO_VERSION,
						     "%s: Go %s's layout accepted (%d: %s)", path,
						     versions[j], err, why);
					cr_log_info("%s with Go %s's layout: %s", path, versions[j], why);
				}
				if (phase == 0)
					child_write_line(&c, "go");
			}
			child_kill(&c);
		}
	}
}

/* PIE: the goroutine list's link-time address is relocated by where the binary is mapped. */
Test(future_release, validator_relocates_pie_binaries, .timeout = 60)
{
	const char *const *versions = fixture_go_versions();

	for (int i = 0; versions[i]; i++) {
		char name[64], own[16], why[128], line[64];
		struct gp_validate_stats st;
		struct child c;
		char *argv[] = { NULL, "1", NULL };
		int err;

		snprintf(name, sizeof(name), "allcaps-pie");
		argv[0] = (char *)fixture_path(name, versions[i]);
		snprintf(own, sizeof(own), "go%s.0", versions[i]);
		child_start(&c, argv);
		cr_assert(child_read_line(&c, line, sizeof(line)) && !strcmp(line, "waiting"));
		err = validate_pid(c.pid, argv[0], own, &st, why, sizeof(why));
		cr_expect_eq(err, 0, "%s: own layout refused: %s", argv[0], why);
		cr_log_info("%s: valid in %.2f ms, %u of %u goroutines live", argv[0],
			    st.elapsed_ns / 1e6, st.checked, st.allglen);
		child_kill(&c);
	}
}

/*
 * Garbage in: another binary's symbols for the process, so the goroutine list is read at
 * wrong addresses (whatever lies there in this process). Must refuse, not crash or hang.
 */
Test(future_release, validator_refuses_a_wrong_binary, .timeout = 60)
{
	const char *const *versions = fixture_all_go_versions();

	for (int i = 0; versions[i]; i++) {
		char *argv[] = { (char *)fixture_path("allcaps", versions[i]), "1", NULL };
		char line[64];
		struct child c;

		child_start(&c, argv);
		cr_assert(child_read_line(&c, line, sizeof(line)) && !strcmp(line, "waiting"));
		for (int j = 0; versions[j]; j++) {
			GOPROF_OPTS(goprof_binary_opts, bo, .allow_newer_go = 1);
			const char *other = fixture_path(j == i ? "httpserv" : "allcaps", versions[j]);
			struct goprof_binary *bin = goprof_binary_open(other, &bo);
			struct gp_validate_stats st;
			struct gp_target t;
			char own[16], why[128];
			int err;

			cr_assert_not_null(bin, "%s", goprof_last_error());
			snprintf(own, sizeof(own), "go%s.0", versions[i]);
			gp_go_offsets(own, &t);
			err = gp_go_validate(c.pid, bin, &t, true, &st, why, sizeof(why));
			cr_expect_neq(err, 0, "process of %s validated with the symbols of %s", argv[0], other);
			cr_log_info("process of go%s, symbols of %s: %d %s", versions[i], other, err, why);
			goprof_binary_free(bin);
		}
		child_kill(&c);
	}
}

/* Many goroutines (20,000 parked, 200 exited: dead g's on the free list): a sample. */
Test(future_release, validator_scales_to_many_goroutines, .timeout = 60)
{
	const char *const *versions = fixture_go_versions();

	for (int i = 0; versions[i]; i++) {
		char *argv[] = { (char *)fixture_path("leak", versions[i]), "20000", "200", NULL };
		struct gp_validate_stats st;
		char own[16], why[128], line[64];
		struct child c;
		int err;

		snprintf(own, sizeof(own), "go%s.0", versions[i]);
		child_start(&c, argv);
		cr_assert(child_read_line(&c, line, sizeof(line)) && !strcmp(line, "waiting"));
		child_write_line(&c, "go");
		cr_assert(child_read_line(&c, line, sizeof(line)) && !strcmp(line, "started"));
		err = validate_pid(c.pid, argv[0], own, &st, why, sizeof(why));
		cr_expect_eq(err, 0, "%s: own layout refused: %s", argv[0], why);
		cr_log_info("%s: valid in %.2f ms, %u goroutines listed, %u live of those checked, "
			    "%u on a thread", argv[0], st.elapsed_ns / 1e6, st.allglen, st.checked,
			    st.on_thread);
		cr_expect_geq(st.allglen, 20000u);
		child_kill(&c);
	}
}

/* Without ptrace access (another user, no capabilities) the note says what is missing. */
Test(future_release, validator_says_when_it_may_not_read, .timeout = 60)
{
	const char *ver = fixture_go_versions()[0];
	char *argv[] = { (char *)fixture_path("allcaps", ver), "1", NULL };
	GOPROF_OPTS(goprof_binary_opts, bo, .allow_newer_go = 1);
	struct goprof_binary *bin = goprof_binary_open(argv[0], &bo);
	struct gp_validate_stats st;
	char own[16], why[128], line[64];
	struct gp_target t;
	struct child c;
	int err;

	if (geteuid() != 0)
		cr_skip_test("needs root to start a process another user may not read");
	cr_assert_not_null(bin, "%s", goprof_last_error());
	snprintf(own, sizeof(own), "go%s.0", ver);
	gp_go_offsets(own, &t);
	child_start(&c, argv);
	cr_assert(child_read_line(&c, line, sizeof(line)) && !strcmp(line, "waiting"));
	cr_assert_eq(setresgid(65534, 65534, 65534), 0);
	cr_assert_eq(setresuid(65534, 65534, 65534), 0); /* drops every capability too */
	err = gp_go_validate(c.pid, bin, &t, true, &st, why, sizeof(why));
	cr_expect_eq(err, -EPERM, "%d: %s", err, why);
	cr_expect(strstr(why, "ptrace access"), "%s", why);
	cr_log_info("as nobody: %s", why);
	/* As nobody we may not signal it: it exits when its stdin closes, with this test. */
	goprof_binary_free(bin);
}

Test(future_release, candidate_for_newer_versions)
{
	struct gp_target t;
	bool newer;

	cr_assert_eq(gp_go_offsets_candidate("go1.28.0", &t, &newer), 0);
	cr_expect(newer && t.g_goid == 152 && t.m_curg == 184);
	cr_expect_eq(t.wait_chan_send, 0, "wait reasons of an unknown release guessed");
	cr_assert_eq(gp_go_offsets_candidate("go1.28rc1", &t, &newer), 0);
	cr_expect(newer);
	cr_assert_eq(gp_go_offsets_candidate("devel go1.28-1a2b3c Tue Jan 6 2027", &t, &newer), 0);
	cr_expect(newer);
	cr_assert_eq(gp_go_offsets_candidate("go1.23.4", &t, &newer), 0);
	cr_expect(!newer && t.g_goid == 160);
	cr_expect_eq(gp_go_offsets_candidate("go1.18", &t, &newer), -GOPROF_ERRNO_GO_VERSION);
	cr_expect_eq(gp_go_offsets_candidate("devel +abc", &t, &newer), -GOPROF_ERRNO_GO_VERSION);
}
