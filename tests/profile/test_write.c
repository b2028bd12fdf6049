// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* goprof_profile_write() and _write_file(): arguments, options, callback failures, files. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"

static const uint32_t formats[] = { GOPROF_FORMAT_PPROF, GOPROF_FORMAT_FOLDED, GOPROF_FORMAT_SVG };

static int null_sink(const void *data, size_t len, void *ctx)
{
	*(size_t *)ctx += len;
	return 0;
}

Test(write, bad_arguments_name_the_problem)
{
	struct goprof_profile *p = fx_cpu_profile();
	size_t n = 0;

	cr_assert_eq(goprof_profile_write(p, 0, NULL, null_sink, &n), -EINVAL);
	cr_assert(strstr(goprof_last_error(), "unknown format 0"), "%s", goprof_last_error());
	cr_assert_eq(goprof_profile_write(p, 0x7fff, NULL, null_sink, &n), -EINVAL);
	cr_assert(strstr(goprof_last_error(), "GOPROF_FORMAT_PPROF"), "%s", goprof_last_error());
	cr_assert_eq(goprof_profile_write(NULL, GOPROF_FORMAT_PPROF, NULL, null_sink, &n), -EINVAL);
	cr_assert(strstr(goprof_last_error(), "must not be NULL"), "%s", goprof_last_error());
	cr_assert_eq(goprof_profile_write(p, GOPROF_FORMAT_PPROF, NULL, NULL, &n), -EINVAL);
	cr_assert_eq(goprof_profile_write_file(p, GOPROF_FORMAT_PPROF, NULL, NULL), -EINVAL);
	cr_assert_eq(goprof_profile_write_file(NULL, GOPROF_FORMAT_PPROF, NULL, "/tmp/x"), -EINVAL);
	cr_assert_eq(n, 0, "nothing may be written on argument errors");
	goprof_profile_free(p);
}

Test(write, options_are_checked)
{
	struct goprof_profile *p = fx_cpu_profile();
	size_t n = 0;
	GOPROF_OPTS(goprof_profile_write_opts, bad_index, .value_index = 2);
	GOPROF_OPTS(goprof_profile_write_opts, bad_flags, .flags = 0x80);
	struct big_opts {
		struct goprof_profile_write_opts o;
		uint64_t future_field;
	} newer;

	cr_assert_eq(goprof_profile_write(p, GOPROF_FORMAT_FOLDED, &bad_index, null_sink, &n), -EINVAL);
	cr_assert(strstr(goprof_last_error(), "value_index 2 out of range"), "%s", goprof_last_error());
	cr_assert_eq(goprof_profile_write(p, GOPROF_FORMAT_FOLDED, &bad_flags, null_sink, &n), -EINVAL);
	cr_assert(strstr(goprof_last_error(), "flags 0x80"), "%s", goprof_last_error());
	/* A caller built against a newer library that sets a field we do not know. */
	memset(&newer, 0, sizeof(newer));
	newer.o.sz = sizeof(newer);
	newer.future_field = 1;
	cr_assert_eq(goprof_profile_write(p, GOPROF_FORMAT_FOLDED, &newer.o, null_sink, &n), -EINVAL);
	cr_assert(strstr(goprof_last_error(), "goprof_profile_write_opts"), "%s", goprof_last_error());
	/* ... but zero bytes past what we know are fine. */
	newer.future_field = 0;
	cr_assert_eq(goprof_profile_write(p, GOPROF_FORMAT_FOLDED, &newer.o, null_sink, &n), 0);
	cr_assert_gt(n, 0);
	cr_assert_str_eq(goprof_last_error(), "", "success clears the last error");
	goprof_profile_free(p);
}

struct failing {
	unsigned calls, fail_at;
	int ret;
};

static int failing_sink(const void *data, size_t len, void *ctx)
{
	struct failing *f = ctx;

	return ++f->calls >= f->fail_at ? f->ret : 0;
}

Test(write, callback_failure_stops_every_encoder)
{
	struct goprof_profile *p = fx_cpu_profile();
	size_t i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct failing f = { .fail_at = 1, .ret = -ENOSPC };
		struct failing g = { .fail_at = 1, .ret = 1 };

		cr_assert_eq(goprof_profile_write(p, formats[i], NULL, failing_sink, &f), -ENOSPC);
		cr_assert_eq(f.calls, 1, "format %u: callback called again after failing", formats[i]);
		cr_assert(strstr(goprof_last_error(), "write callback failed"), "%s", goprof_last_error());
		cr_assert_eq(goprof_profile_write(p, formats[i], NULL, failing_sink, &g), -ECANCELED);
		cr_assert(strstr(goprof_last_error(), "stopped"), "%s", goprof_last_error());
	}
	goprof_profile_free(p);
}

/* Large outputs arrive in several chunks; a failure in the middle stops the rest. */
Test(write, failure_mid_stream)
{
	struct goprof_profile *p = fx_empty_cpu_profile();
	struct gp_line_in l = { NULL, NULL, "/src/gen.go", 1, 1 };
	struct failing f = { .fail_at = 2, .ret = -EPIPE };
	struct fx_buf all = { 0 };
	char name[64];
	uint32_t loc[2];
	int i;

	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "main.generated_function_%06d", i);
		l.function = name;
		loc[0] = fx_location(p, 0, 0x400000 + (uint64_t)i * 16, GOPROF_FRAME_KIND_GO, &l, 1);
		loc[1] = loc[0];
		fx_sample(p, "gen", loc, 2, 1, NULL, 0);
	}
	cr_assert_eq(goprof_profile_write(p, GOPROF_FORMAT_FOLDED, NULL, fx_buf_write, &all), 0);
	cr_assert_gt(all.calls, 2, "expected several chunks, got %u", all.calls);
	cr_assert_eq(goprof_profile_write(p, GOPROF_FORMAT_FOLDED, NULL, failing_sink, &f), -EPIPE);
	cr_assert_eq(f.calls, 2);
	fx_buf_free(&all);
	goprof_profile_free(p);
}

Test(write, files)
{
	struct goprof_profile *p = fx_cpu_profile();
	char dir[] = "/tmp/goprof-write-XXXXXX", path[256];
	struct fx_buf mem = { 0 };
	struct stat st;
	FILE *f;
	char *data;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cpu.folded", dir);
	cr_assert_eq(goprof_profile_write_file(p, GOPROF_FORMAT_FOLDED, NULL, path), 0);
	cr_assert_eq(goprof_profile_write(p, GOPROF_FORMAT_FOLDED, NULL, fx_buf_write, &mem), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq((size_t)st.st_size, mem.len);
	data = malloc(mem.len);
	f = fopen(path, "rb");
	cr_assert_eq(fread(data, 1, mem.len, f), mem.len);
	fclose(f);
	cr_assert_eq(memcmp(data, mem.data, mem.len), 0, "file and callback output differ");
	free(data);
	unlink(path);

	/* Missing directory: the errno and the path in the message. */
	snprintf(path, sizeof(path), "%s/missing/cpu.pb.gz", dir);
	cr_assert_eq(goprof_profile_write_file(p, GOPROF_FORMAT_PPROF, NULL, path), -ENOENT);
	cr_assert(strstr(goprof_last_error(), path), "%s", goprof_last_error());
	/* A failed encode removes the file it created. */
	snprintf(path, sizeof(path), "%s/bad.svg", dir);
	cr_assert_eq(goprof_profile_write_file(p, 99, NULL, path), -EINVAL);
	cr_assert(strstr(goprof_last_error(), "unknown format 99"), "%s", goprof_last_error());
	cr_assert_neq(access(path, F_OK), 0, "partial file left behind");
	/* Write errors surface with the path; a device is never removed. Reached through a
	 * symlink so that a regression would only remove the link, not /dev/full. */
	if (access("/dev/full", W_OK) == 0) {
		snprintf(path, sizeof(path), "%s/full", dir);
		cr_assert_eq(symlink("/dev/full", path), 0);
		cr_assert_eq(goprof_profile_write_file(p, GOPROF_FORMAT_SVG, NULL, path), -ENOSPC);
		cr_assert(strstr(goprof_last_error(), "No space left"), "%s", goprof_last_error());
		cr_assert(strstr(goprof_last_error(), path), "%s", goprof_last_error());
		cr_assert_eq(lstat(path, &st), 0, "the device path was removed after a failure");
		unlink(path);
	}
	rmdir(dir);
	fx_buf_free(&mem);
	goprof_profile_free(p);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static int file_is(const char *path, const char *text)
{
	char buf[64] = { 0 };
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	return n == strlen(text) && !memcmp(buf, text, n);
}

/*
 * Issue 15: a file is replaced by rename, so a hard link or a stranger's symlink under the
 * name is never written through; a stranger's symlink is refused outright.
 */
Test(write, links_under_the_name_are_not_written_through)
{
	struct goprof_profile *p = fx_cpu_profile();
	char dir[] = "/tmp/goprof-write-XXXXXX", path[256], other[256], victim[256];
	struct stat st;

	cr_assert_not_null(mkdtemp(dir));
	/* A hard link: the other name keeps its content, ours becomes a new file. */
	snprintf(other, sizeof(other), "%s/other", dir);
	snprintf(path, sizeof(path), "%s/cpu.folded", dir);
	write_text(other, "untouched\n");
	cr_assert_eq(link(other, path), 0);
	cr_assert_eq(goprof_profile_write_file(p, GOPROF_FORMAT_FOLDED, NULL, path), 0,
		     "%s", goprof_last_error());
	cr_assert(file_is(other, "untouched\n"), "written through a hard link");
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_nlink, 1);
	cr_assert_gt(st.st_size, 0);
	unlink(path);
	unlink(other);

	/* Our own symlink is followed (the /dev/full case above relies on it). */
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	write_text(victim, "precious\n");
	cr_assert_eq(symlink(victim, path), 0);
	if (geteuid() == 0 && lchown(path, 65534, 65534) == 0) {
		/* A link of another user's (nobody's): refused, the file it names intact. */
		cr_assert_eq(goprof_profile_write_file(p, GOPROF_FORMAT_FOLDED, NULL, path), -ELOOP);
		cr_assert(strstr(goprof_last_error(), path) &&
			  strstr(goprof_last_error(), "uid 65534"), "%s", goprof_last_error());
		cr_assert(file_is(victim, "precious\n"), "written through a stranger's link");
		cr_assert_eq(lstat(path, &st), 0);
		cr_assert(S_ISLNK(st.st_mode), "the stranger's link was removed");
	} else if (getenv("CI") && !strcmp(getenv("CI"), "true")) {
		cr_assert_fail("CI=true: needs root to give a link to another user");
	}
	unlink(path);
	unlink(victim);
	/* No temporary file is left behind, after success or failure. */
	cr_assert_eq(goprof_profile_write_file(p, GOPROF_FORMAT_PPROF, NULL, path), 0);
	cr_assert_eq(goprof_profile_write_file(p, 99, NULL, path), -EINVAL);
	unlink(path);
	cr_assert_eq(rmdir(dir), 0, "%s not empty: a temporary file left behind", dir);
	goprof_profile_free(p);
}

/* profile.h promises that encoders only read: several threads may encode one profile. */
struct enc_job {
	const struct goprof_profile *p;
	uint32_t format;
	struct fx_buf out;
	int err;
};

static void *encode_thread(void *arg)
{
	struct enc_job *j = arg;
	int i;

	for (i = 0; i < 20 && !j->err; i++) {
		fx_buf_free(&j->out);
		j->err = goprof_profile_write(j->p, j->format, NULL, fx_buf_write, &j->out);
	}
	return NULL;
}

Test(write, concurrent_encoders_of_one_profile)
{
	struct goprof_profile *p = fx_cpu_profile();
	struct enc_job jobs[6];
	pthread_t th[6];
	struct fx_buf want[3] = { { 0 } };
	int i;

	for (i = 0; i < 3; i++)
		cr_assert_eq(goprof_profile_write(p, formats[i], NULL, fx_buf_write, &want[i]), 0);
	for (i = 0; i < 6; i++) {
		jobs[i] = (struct enc_job){ .p = p, .format = formats[i % 3] };
		cr_assert_eq(pthread_create(&th[i], NULL, encode_thread, &jobs[i]), 0);
	}
	for (i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(jobs[i].err, 0);
		cr_assert_eq(jobs[i].out.len, want[i % 3].len);
		cr_assert_eq(memcmp(jobs[i].out.data, want[i % 3].data, want[i % 3].len), 0,
			     "format %u differs when encoded concurrently", formats[i % 3]);
		fx_buf_free(&jobs[i].out);
	}
	for (i = 0; i < 3; i++)
		fx_buf_free(&want[i]);
	goprof_profile_free(p);
}
