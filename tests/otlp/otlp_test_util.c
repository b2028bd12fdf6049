// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* OTLP test helpers: the expectation as JSON from goprof_profile_foreach_sample(). */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "goprof/error.h"
#include "otlp_test_util.h"

const char *otlp_test_file(const char *name)
{
	static __thread char path[4096];
	const char *dir = getenv("GOPROF_OTLP_TEST_DIR");

	cr_assert_not_null(dir, "GOPROF_OTLP_TEST_DIR is not set (run through meson test)");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

struct dump {
	FILE *f;
	unsigned n;
};

static int dump_sample(const struct goprof_profile_sample *s, void *ctx)
{
	struct dump *d = ctx;
	FILE *f = d->f;
	uint32_t i;

	fprintf(f, "%s\n{\"comm\": ", d->n++ ? "," : "");
	json_str(f, s->comm);
	fprintf(f, ", \"values\": [");
	for (i = 0; i < s->nr_values; i++)
		fprintf(f, "%s%" PRId64, i ? ", " : "", s->values[i]);
	fprintf(f, "], \"labels\": [");
	for (i = 0; i < s->nr_labels; i++) {
		const struct goprof_profile_label *l = s->labels[i];

		fprintf(f, "%s{\"key\": ", i ? ", " : "");
		json_str(f, l->key);
		if (l->is_num) {
			fprintf(f, ", \"num\": %" PRId64 ", \"unit\": ", l->num);
			json_str(f, l->num_unit);
		} else {
			fprintf(f, ", \"str\": ");
			json_str(f, l->str);
		}
		fputc('}', f);
	}
	fprintf(f, "], \"frames\": [");
	for (i = 0; i < s->nr_frames; i++) {
		const struct goprof_profile_frame *fr = s->frames[i];

		fprintf(f, "%s{\"function\": ", i ? ",\n  " : "");
		json_str(f, fr->function);
		fprintf(f, ", \"system_name\": ");
		json_str(f, fr->symbolized ? fr->system_name : "");
		fprintf(f, ", \"file\": ");
		json_str(f, fr->file);
		fprintf(f, ", \"line\": %" PRId64 ", \"start_line\": %" PRId64
			   ", \"address\": %" PRIu64 ", \"kind\": %u, \"mapping_file\": ",
			fr->line, fr->start_line, fr->address, fr->kind);
		json_str(f, fr->mapping_file);
		fprintf(f, ", \"build_id\": ");
		json_str(f, fr->build_id);
		fprintf(f, ", \"htlhash\": ");
		json_str(f, fr->htlhash);
		fputc('}', f);
	}
	fprintf(f, "],\n \"timestamps\": [");
	for (i = 0; i < s->nr_timestamps; i++) {
		fprintf(f, "%s[%" PRId64 ", [", i ? ", " : "", s->timestamps[i]);
		for (uint32_t j = 0; j < s->nr_values; j++)
			fprintf(f, "%s%" PRId64, j ? ", " : "",
				s->timestamp_values[(size_t)i * s->nr_values + j]);
		fprintf(f, "]]");
	}
	fprintf(f, "]}");
	return 0;
}

static char *tmp_path(const char *suffix)
{
	char *path;
	int fd;

	cr_assert_neq(asprintf(&path, "/tmp/goprof-otlp-XXXXXX%s", suffix), -1);
	fd = mkstemps(path, (int)strlen(suffix));
	cr_assert_geq(fd, 0);
	close(fd);
	return path;
}

int otlp_write_case(const struct goprof_profile *p, const struct goprof_profile_write_opts *opts,
		    const struct otlp_expect *ex, char **body_path, char **expect_path)
{
	struct goprof_profile_info info = { .sz = sizeof(info) };
	struct dump d = { 0 };
	const char *const *k;
	uint32_t i;
	int err;

	*body_path = tmp_path(".otlp");
	err = goprof_profile_write_file(p, GOPROF_FORMAT_OTLP, opts, *body_path);
	if (err) {
		unlink(*body_path);
		free(*body_path);
		*body_path = NULL;
		return err;
	}
	*expect_path = tmp_path(".json");
	d.f = fopen(*expect_path, "w");
	cr_assert_not_null(d.f);
	cr_assert_eq(goprof_profile_get_info(p, &info), 0);
	fprintf(d.f, "{\"resource\": %s,\n\"sample_types\": [", ex->resource_json);
	for (i = 0; i < info.nr_sample_types; i++) {
		const char *type, *unit;

		cr_assert_eq(goprof_profile_sample_type(p, i, &type, &unit), 0);
		fprintf(d.f, "%s[", i ? ", " : "");
		json_str(d.f, type);
		fputs(", ", d.f);
		json_str(d.f, unit);
		fputc(']', d.f);
	}
	fprintf(d.f, "],\n\"default_sample_type\": ");
	json_str(d.f, info.default_sample_type);
	fprintf(d.f, ", \"period\": %" PRId64 ", \"period_type\": [", info.period);
	json_str(d.f, info.period_type);
	fputs(", ", d.f);
	json_str(d.f, info.period_unit);
	fprintf(d.f, "], \"time_nanos\": %" PRId64 ", \"duration_nanos\": %" PRId64 ",\n",
		info.time_nanos, info.duration_nanos);
	fprintf(d.f, "\"nr_timestamps\": %" PRIu64 ", \"timestamps_dropped\": %" PRIu64 ",\n",
		info.nr_timestamps, info.timestamps_dropped);
	if (ex->link_keys) {
		fprintf(d.f, "\"link_keys\": [");
		for (k = ex->link_keys; *k; k++) {
			fprintf(d.f, "%s", k == ex->link_keys ? "" : ", ");
			json_str(d.f, *k);
		}
		fprintf(d.f, "],\n");
	}
	fprintf(d.f, "\"samples\": [");
	cr_assert_eq(goprof_profile_foreach_sample(p, dump_sample, &d), 0);
	fprintf(d.f, "]}\n");
	cr_assert_eq(fclose(d.f), 0);
	return 0;
}

static char *run(const char *cmd, int *status)
{
	FILE *f = popen(cmd, "r");
	char *out = NULL;
	size_t len = 0, n;
	char buf[4096];

	cr_assert_not_null(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		out = realloc(out, len + n + 1);
		memcpy(out + len, buf, n);
		len += n;
	}
	if (!out)
		out = calloc(1, 1);
	out[len] = '\0';
	*status = pclose(f);
	*status = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
	return out;
}

int otlp_run_checker(const char *body_path, const char *expect_path, char **out)
{
	return otlp_run_checker_args(body_path, expect_path, "", out);
}

char *otlp_resource_json(const char *text, const char *exe, int pid, const char *service)
{
	const char *bid = strstr(text, "key: \"process.executable.build_id.");
	char key[128], val[256], *json;

	/* The build ID is whichever kind the toolchain wrote (Go's, or GNU's too). */
	cr_assert_not_null(bid, "no build ID in the resource");
	cr_assert_eq(sscanf(bid, "key: \"%127[^\"]\" value { string_value: \"%255[^\"]\"", key,
			    val), 2, "%.200s", bid);
	cr_assert_neq(asprintf(&json,
			       "{\"process.executable.name\": \"%s\", "
			       "\"process.executable.path\": \"%s\", \"%s\": \"%s\", "
			       "\"process.pid\": %d, \"service.name\": \"%s\"}",
			       strrchr(exe, '/') + 1, exe, key, val, pid, service), -1);
	return json;
}

int otlp_run_checker_args(const char *body_path, const char *expect_path, const char *args,
			  char **out)
{
	char *cmd, *proto = strdup(otlp_test_file("otlp_profiles_v1_11.proto"));
	int status;

	cr_assert_neq(asprintf(&cmd, "python3 %s %s %s %s %s 2>&1", otlp_test_file("check_otlp.py"),
			       proto, body_path, expect_path, args), -1);
	*out = run(cmd, &status);
	free(cmd);
	free(proto);
	return status;
}

char *otlp_decode_text(const char *body_path)
{
	char *cmd, *out;
	int status;

	cr_assert_neq(asprintf(&cmd, "protoc --decode=opentelemetry.proto.collector.profiles."
				     "v1development.ExportProfilesServiceRequest -I %s "
				     "otlp_profiles_v1_11.proto < %s 2>&1",
			       getenv("GOPROF_OTLP_TEST_DIR"), body_path), -1);
	out = run(cmd, &status);
	free(cmd);
	if (status) {
		cr_log_error("protoc: %s", out);
		free(out);
		return NULL;
	}
	return out;
}
