// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * libFuzzer target (issue 15, item 2): names are untrusted bytes (a binary's symbol table,
 * a pprof file read back), and every text writer must turn any of them into output that
 * parses. The input is cut into names (any byte but NUL); each name is
 *   - written by the CLI's JSON writer (examples/goprof/json.c: json_string, json_bytes)
 *     into an events.jsonl-like line, which must be one valid UTF-8 JSON object whose
 *     string decodes back to the name when the name was valid UTF-8 without control
 *     characters;
 *   - used as function, file, mapping, process (comm) and label names in a profile that
 *     is then encoded as folded stacks (valid UTF-8 lines "frames count", a frame per
 *     location), SVG (valid UTF-8, no control characters, every '&' an entity, every '<'
 *     a tag) and pprof and OTLP (must encode without error).
 * Any violation aborts.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goprof/error.h"
#include "profile/profile_internal.h"
#include "profile/utf8.h"
#include "../../examples/goprof/report.h"

#define MAX_NAMES 8
#define MAX_NAME 64

struct text {
	char *d;
	size_t len;
};

static int collect(const void *data, size_t len, void *ctx)
{
	struct text *t = ctx;
	char *d = realloc(t->d, t->len + len + 1);

	if (!d)
		return -12;
	memcpy(d + t->len, data, len);
	t->d = d;
	t->len += len;
	t->d[t->len] = '\0';
	return 0;
}

static void die(const char *what, const char *text)
{
	fprintf(stderr, "%s in: %s\n", what, text);
	abort();
}

/* Whole text valid UTF-8 (strict); control characters other than \t \n \r refused. */
static void check_utf8(const char *what, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;

	for (size_t i = 0; i < len;) {
		size_t n = gp_utf8_len(s + i);

		if (!n)
			die(what, "invalid UTF-8");
		if (s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			die(what, "control character");
		i += n;
	}
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Appends code point cp as UTF-8. */
static size_t put_cp(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	out[0] = (char)(0xe0 | cp >> 12);
	out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[2] = (char)(0x80 | (cp & 0x3f));
	return 3;
}

/*
 * A JSON string per RFC 8259 at *p (strict: valid UTF-8, no raw control characters, only
 * the defined escapes, no lone surrogate escapes); decoded into out. Returns false if
 * malformed.
 */
static bool parse_json_string(const char **p, char *out, size_t *outlen)
{
	const unsigned char *s = (const unsigned char *)*p;
	size_t o = 0;

	if (*s++ != '"')
		return false;
	for (;;) {
		if (*s == '"')
			break;
		if (*s < 0x20)
			return false; /* raw control character, or the end of the text */
		if (*s == '\\') {
			static const char esc[] = "\"\\/bfnrt", dec[] = "\"\\/\b\f\n\r\t";
			const char *e = strchr(esc, s[1]);
			unsigned cp = 0;

			if (s[1] && e) {
				out[o++] = dec[e - esc];
				s += 2;
				continue;
			}
			if (s[1] != 'u')
				return false;
			for (int i = 2; i < 6; i++) {
				int h = hexval((char)s[i]);

				if (h < 0)
					return false;
				cp = cp << 4 | (unsigned)h;
			}
			if (cp >= 0xd800 && cp <= 0xdfff)
				return false; /* we never write surrogates */
			o += put_cp(out + o, cp);
			s += 6;
			continue;
		}
		size_t n = gp_utf8_len(s);

		if (!n)
			return false;
		memcpy(out + o, s, n);
		o += n;
		s += n;
	}
	*p = (const char *)s + 1;
	*outlen = o;
	return true;
}

/* json_string or json_bytes of name inside {"name":...}: one valid JSON object. */
static void check_json(const char *name, size_t len, bool bytes)
{
	char *buf = NULL, *decoded = malloc(len * 6 + 8);
	size_t size = 0, dlen = 0;
	FILE *f = open_memstream(&buf, &size);
	const char *p;
	bool plain = true;

	if (!f || !decoded)
		abort();
	fputs("{\"name\":", f);
	if (bytes)
		json_bytes(f, name, len);
	else
		json_string(f, name);
	fputs("}\n", f);
	fclose(f);
	check_utf8("json", buf, size);
	p = buf + strlen("{\"name\":");
	if (strncmp(buf, "{\"name\":", 8) || !parse_json_string(&p, decoded, &dlen) ||
	    strcmp(p, "}\n"))
		die("malformed JSON", buf);
	/* Text that JSON can carry as it is comes back unchanged. */
	for (size_t i = 0; i < len && plain;) {
		size_t n = gp_utf8_len((const unsigned char *)name + i);

		plain = n && (unsigned char)name[i] >= 0x20 && name[i] != 0x7f &&
			!(bytes && (unsigned char)name[i] >= 0x80);
		i += n ? n : 1;
	}
	if (plain && (dlen != len || memcmp(decoded, name, len)))
		die("JSON does not decode to the name", buf);
	free(buf);
	free(decoded);
}

/* Folded: UTF-8 lines "frame;frame;... count", one frame per location plus the comm. */
static void check_folded(const struct text *t, uint32_t frames)
{
	check_utf8("folded", t->d ? t->d : "", t->len);
	for (char *line = t->d, *nl; line && *line; line = nl + 1) {
		char *sp, *end;
		uint32_t semis = 0;

		nl = strchr(line, '\n');
		if (!nl)
			die("folded line without newline", line);
		*nl = '\0';
		sp = strrchr(line, ' ');
		if (!sp || strtoll(sp + 1, &end, 10) <= 0 || *end)
			die("folded line without a count", line);
		for (char *c = line; c < sp; c++)
			semis += *c == ';';
		if (semis != frames && strncmp(line, "[unknown] ", 10))
			die("folded line with the wrong number of frames", line);
	}
}

/* SVG: UTF-8 without control characters, '&' always an entity, '<' always markup. */
static void check_svg(const struct text *t)
{
	static const char *const entities[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;" };
	const char *s = t->d;

	if (!s)
		die("svg", "empty");
	check_utf8("svg", s, t->len);
	while (*s) {
		if (!strncmp(s, "<![CDATA[", 9)) {
			const char *end = strstr(s, "]]>");

			if (!end)
				die("svg", "unterminated CDATA");
			s = end + 3;
			continue;
		}
		if (*s == '&') {
			bool ok = false;

			for (size_t i = 0; i < sizeof(entities) / sizeof(entities[0]) && !ok; i++)
				ok = !strncmp(s, entities[i], strlen(entities[i]));
			if (!ok && s[1] == '#')
				ok = strchr(s, ';') != NULL;
			if (!ok)
				die("svg: a bare '&'", s);
		}
		if (*s == '<' && !(s[1] == '/' || s[1] == '!' || s[1] == '?' ||
				   (s[1] >= 'a' && s[1] <= 'z') || (s[1] >= 'A' && s[1] <= 'Z')))
			die("svg: a bare '<'", s);
		s++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct gp_value_type types[] = { { "samples", "count" } };
	struct gp_profile_desc desc = { .sample_types = types, .nr_sample_types = 1,
					.period_type = { "cpu", "nanoseconds" }, .period = 1 };
	static const uint32_t formats[] = { GOPROF_FORMAT_FOLDED, GOPROF_FORMAT_SVG,
					    GOPROF_FORMAT_PPROF, GOPROF_FORMAT_OTLP };
	char names[MAX_NAMES][MAX_NAME + 1];
	uint32_t nnames = 0, locs[MAX_NAMES], map = 0;
	struct goprof_profile *p;
	size_t i = 0;

	/* Names: a length byte, then that many bytes (NULs become 0x80: a C string). */
	while (i < size && nnames < MAX_NAMES) {
		size_t len = data[i++] % (MAX_NAME + 1), j;

		for (j = 0; j < len && i < size; j++, i++)
			names[nnames][j] = data[i] ? (char)data[i] : (char)0x80;
		names[nnames][j] = '\0';
		check_json(names[nnames], j, false);
		check_json(names[nnames], j, true);
		nnames++;
	}
	if (!nnames)
		return 0;
	p = gp_profile_new(&desc);
	if (!p)
		return 0;
	{
		struct gp_mapping_in m = { 0x400000, 0x800000, 0, names[0], names[nnames - 1], NULL };

		if (gp_profile_add_mapping(&map, p, &m))
			goto out;
	}
	for (uint32_t k = 0; k < nnames; k++) {
		/* Names as function, system name and file; every other frame from the kernel. */
		struct gp_line_in line = { names[k], names[(k + 1) % nnames], names[(k + 2) % nnames],
					   (int64_t)k + 1, 1 };

		if (gp_profile_add_location(&locs[k], p, k % 2 ? 0 : map, 0x400000 + 16 * k,
					    k % 2 ? GOPROF_FRAME_KIND_KERNEL : GOPROF_FRAME_KIND_GO,
					    &line, 1))
			goto out;
	}
	{
		int64_t v = 3;
		struct gp_label_in label = { names[0][0] ? names[0] : "k", names[nnames - 1], 0, NULL };
		struct gp_sample_in s = { .locations = locs, .nr_locations = nnames, .values = &v,
					  .labels = &label, .nr_labels = 1, .comm = names[nnames / 2] };

		if (gp_profile_add_sample(p, &s))
			goto out;
	}
	for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
		struct text t = { 0 };

		if (goprof_profile_write(p, formats[f], NULL, collect, &t))
			die("encoder failed", goprof_last_error());
		if (formats[f] == GOPROF_FORMAT_FOLDED)
			/* nnames frames and the comm: nnames separators (an empty comm adds none). */
			check_folded(&t, names[nnames / 2][0] ? nnames : nnames - 1);
		else if (formats[f] == GOPROF_FORMAT_SVG)
			check_svg(&t);
		free(t.d);
	}
out:
	goprof_profile_free(p);
	return 0;
}
