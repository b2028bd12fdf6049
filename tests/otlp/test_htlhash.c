// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * process.executable.build_id.htlhash (lib/profile/htlhash.c) against Python's hashlib applied to
 * the specification's definition: SHA-256 of the first and last 4096 bytes and the
 * big-endian length, first 16 bytes in hex. Sizes around every boundary (empty, under
 * one page, overlapping head and tail, exactly two pages, large), and the SHA-256 itself
 * at every padding boundary.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../profile/fixture.h"
#include "profile/htlhash.h"

/* One python3 run checks every line "HEXDIGEST PATH" (htlhash) of a list file. */
static const char *const check_htlhash_py =
	"import hashlib, sys\n"
	"bad = 0\n"
	"for line in open(sys.argv[1]):\n"
	"    got, path = line.split()\n"
	"    d = open(path, 'rb').read()\n"
	"    want = hashlib.sha256(d[:4096] + d[-4096:] + len(d).to_bytes(8, 'big')).digest()[:16].hex()\n"
	"    if got != want:\n"
	"        print('%s (%d bytes): ours %s, hashlib %s' % (path, len(d), got, want)); bad += 1\n"
	"print('checked'); sys.exit(1 if bad else 0)\n";

static void write_pattern(const char *path, size_t n)
{
	FILE *f = fopen(path, "wb");
	uint64_t x = 0x9e3779b97f4a7c15ull ^ n;

	cr_assert_not_null(f);
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		fputc((int)(x & 0xff), f);
	}
	cr_assert_eq(fclose(f), 0);
}

static void run_python(const char *script, const char *list)
{
	char *cmd, *out, py[] = "/tmp/goprof-htlhash-XXXXXX.py";
	int status, fd = mkstemps(py, 3);
	FILE *f = fdopen(fd, "w");

	cr_assert_not_null(f);
	fputs(script, f);
	fclose(f);
	cr_assert_neq(asprintf(&cmd, "python3 %s %s", py, list), -1);
	out = fx_run(cmd, &status);
	cr_assert_eq(status, 0, "%s", out);
	cr_assert_not_null(strstr(out, "checked"), "%s", out);
	free(cmd);
	free(out);
	unlink(py);
}

Test(htlhash, files_of_every_boundary_size_match_hashlib)
{
	static const size_t sizes[] = { 0, 1, 100, 4095, 4096, 4097, 6000, 8191, 8192, 8193,
					12288, 1000003 };
	char dir[] = "/tmp/goprof-htlhash-XXXXXX", path[128], list[160], hex[GP_HTLHASH_HEX_LEN + 1];
	FILE *l;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(list, sizeof(list), "%s/list", dir);
	l = fopen(list, "w");
	cr_assert_not_null(l);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(path, sizeof(path), "%s/f%zu", dir, sizes[i]);
		write_pattern(path, sizes[i]);
		cr_assert_eq(gp_htlhash_path(path, hex), 0, "%s", path);
		cr_assert_eq(strlen(hex), GP_HTLHASH_HEX_LEN);
		fprintf(l, "%s %s\n", hex, path);
	}
	fclose(l);
	run_python(check_htlhash_py, list);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(path, sizeof(path), "%s/f%zu", dir, sizes[i]);
		unlink(path);
	}
	unlink(list);
	rmdir(dir);
}

Test(htlhash, sha256_padding_boundaries_match_hashlib)
{
	static const char *const py =
		"import hashlib, sys\n"
		"bad = 0\n"
		"for line in open(sys.argv[1]):\n"
		"    n, got = line.split()\n"
		"    want = hashlib.sha256(bytes(i * 7 & 0xff for i in range(int(n)))).hexdigest()\n"
		"    if got != want:\n"
		"        print('length %s: ours %s, hashlib %s' % (n, got, want)); bad += 1\n"
		"print('checked'); sys.exit(1 if bad else 0)\n";
	char list[] = "/tmp/goprof-sha256-XXXXXX";
	uint8_t data[300], d[32];
	int fd = mkstemp(list);
	FILE *l = fdopen(fd, "w");

	cr_assert_not_null(l);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 & 0xff);
	for (size_t n = 0; n <= sizeof(data); n++) {
		gp_sha256(data, n, d);
		fprintf(l, "%zu ", n);
		for (int i = 0; i < 32; i++)
			fprintf(l, "%02x", d[i]);
		fputc('\n', l);
	}
	fclose(l);
	run_python(py, list);
	unlink(list);
	/* And the FIPS 180-2 example, in case python3 and we share a mistake. */
	gp_sha256("abc", 3, d);
	cr_assert_eq(d[0], 0xba);
	cr_assert_eq(d[1], 0x78);
	cr_assert_eq(d[31], 0xad);
}

Test(htlhash, missing_file_is_an_error)
{
	char hex[GP_HTLHASH_HEX_LEN + 1];

	cr_assert_eq(gp_htlhash_path("/nonexistent/goprof-htlhash", hex), -ENOENT);
}
