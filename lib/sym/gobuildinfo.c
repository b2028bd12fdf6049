// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* .go.buildinfo: header, inline (Go 1.18+) and pointer (older) string layouts. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sym/gobuildinfo.h"

#define FLAG_BIG_ENDIAN 0x1
#define FLAG_INLINE_STRINGS 0x2
/* Longest string we accept; modinfo of large programs is tens of KiB. */
#define MAX_BUILDINFO_STRING (16u << 20)

static bool read_uvarint64(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	unsigned shift = 0;

	while (p < end && shift < 64) {
		uint8_t b = *p++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*pp = p;
			*out = v;
			return true;
		}
		shift += 7;
	}
	return false;
}

static char *dup_bytes(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

/* modinfo is wrapped in 16-byte sentinels; strip them like debug/buildinfo does. */
static char *dup_modinfo(const uint8_t *p, size_t n)
{
	if (n >= 33 && p[n - 17] == '\n')
		return dup_bytes(p + 16, n - 32);
	return dup_bytes(p, n);
}

/* Reads a Go string header {ptr, len} at vaddr through vmem. */
static const uint8_t *deref_string(const struct gp_vmem *vmem, uint64_t hdr, uint8_t ps, size_t *n)
{
	const uint8_t *h = vmem ? gp_vmem_ptr(vmem, hdr, 2u * ps) : NULL;
	uint64_t ptr, len;

	if (!h)
		return NULL;
	ptr = ps == 8 ? gp_le64(h) : gp_le32(h);
	len = ps == 8 ? gp_le64(h + ps) : gp_le32(h + ps);
	if (len > MAX_BUILDINFO_STRING)
		return NULL;
	*n = len;
	return gp_vmem_ptr(vmem, ptr, len);
}

bool gp_go_version_parse(const char *s, int *major, int *minor, int *patch)
{
	const char *p = strstr(s, "go1.");
	char *end;
	long mi, pa = 0;

	*major = *minor = *patch = 0;
	if (!p)
		return false;
	p += 4;
	if (!isdigit((unsigned char)*p))
		return false;
	mi = strtol(p, &end, 10);
	if (*end == '.' && isdigit((unsigned char)end[1]))
		pa = strtol(end + 1, NULL, 10);
	if (mi < 0 || mi > 1000 || pa < 0 || pa > 1000)
		return false;
	*major = 1;
	*minor = (int)mi;
	*patch = (int)pa;
	return true;
}

int gp_buildinfo_parse(struct gp_buildinfo *bi, const uint8_t *p, size_t len, const struct gp_vmem *vmem)
{
	uint8_t ps, flags;
	const uint8_t *v = NULL, *m = NULL;
	size_t vn = 0, mn = 0;

	memset(bi, 0, sizeof(*bi));
	if (len < GP_BUILDINFO_MAGIC_LEN || memcmp(p, GP_BUILDINFO_MAGIC, GP_BUILDINFO_MAGIC_LEN) != 0)
		return -GOPROF_ERRNO_NOT_GO;
	if (len < 32)
		return -ENODATA; /* the magic, cut before its header ends */
	ps = p[14];
	flags = p[15];
	if (ps != 4 && ps != 8)
		return -GOPROF_ERRNO_CORRUPT;
	if (flags & FLAG_BIG_ENDIAN)
		return -GOPROF_ERRNO_CORRUPT; /* we read little-endian targets only */
	if (flags & FLAG_INLINE_STRINGS) {
		const uint8_t *q = p + 32, *end = p + len;
		uint64_t n;

		/* Cut in the version: truncated. Cut in the modinfo: keep the version. */
		if (!read_uvarint64(&q, end, &n))
			return end - q < 10 ? -ENODATA : -GOPROF_ERRNO_CORRUPT; /* cut, or overlong */
		if (n > (uint64_t)(end - q))
			return -ENODATA;
		v = q;
		vn = n;
		q += n;
		if (read_uvarint64(&q, end, &n) && n <= (uint64_t)(end - q)) {
			m = q;
			mn = n;
		} else {
			bi->modinfo_truncated = true;
		}
	} else {
		uint64_t vh = ps == 8 ? gp_le64(p + 16) : gp_le32(p + 16);
		uint64_t mh = ps == 8 ? gp_le64(p + 16 + ps) : gp_le32(p + 16 + ps);

		v = deref_string(vmem, vh, ps, &vn);
		m = deref_string(vmem, mh, ps, &mn);
		if (!v)
			return -GOPROF_ERRNO_CORRUPT;
	}
	if (vn == 0 || vn > 256) {
		bi->modinfo_truncated = false;
		return -GOPROF_ERRNO_CORRUPT;
	}
	bi->version = dup_bytes(v, vn);
	if (!bi->version)
		return -ENOMEM;
	if (m && mn) {
		bi->modinfo = dup_modinfo(m, mn);
		if (!bi->modinfo) {
			gp_buildinfo_free(bi);
			return -ENOMEM;
		}
	}
	gp_go_version_parse(bi->version, &bi->major, &bi->minor, &bi->patch);
	return 0;
}

void gp_buildinfo_free(struct gp_buildinfo *bi)
{
	free(bi->version);
	free(bi->modinfo);
	memset(bi, 0, sizeof(*bi));
}

int gp_modinfo_get(const char *modinfo, const char *key, bool build_setting, char *buf, size_t len)
{
	const char *line = modinfo;
	size_t klen = strlen(key);

	if (!modinfo)
		return -ENOENT;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line) : strlen(line);
		const char *val = NULL;
		size_t vlen = 0;

		if (build_setting) {
			if (ll > 6 + klen && memcmp(line, "build\t", 6) == 0 &&
			    memcmp(line + 6, key, klen) == 0 && line[6 + klen] == '=') {
				val = line + 7 + klen;
				vlen = ll - 7 - klen;
			}
		} else if (ll > klen && memcmp(line, key, klen) == 0 && line[klen] == '\t') {
			const char *tab;

			val = line + klen + 1;
			vlen = ll - klen - 1;
			/* "mod\tpath\tversion\tsum": the first field is the value. */
			tab = memchr(val, '\t', vlen);
			if (tab)
				vlen = (size_t)(tab - val);
		}
		if (val) {
			if (len) {
				size_t c = GP_MIN(vlen, len - 1);

				memcpy(buf, val, c);
				buf[c] = '\0';
			}
			return (int)vlen;
		}
		line = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}
