// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* /proc/PID/maps parsing: "start-end perms offset major:minor inode path". */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "internal.h"
#include "sym/proc_maps.h"

int gp_maps_parse(struct gp_maps *maps, const char *text)
{
	const char *line = text;
	size_t cap = 0;

	memset(maps, 0, sizeof(*maps));
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line) : strlen(line);
		char buf[4096 + 256], perms[8], path[4096];
		unsigned long long start, end, off, ino;
		unsigned int maj, min;
		int n;

		if (ll < sizeof(buf)) {
			memcpy(buf, line, ll);
			buf[ll] = '\0';
			path[0] = '\0';
			n = sscanf(buf, "%llx-%llx %7s %llx %x:%x %llu %4095[^\n]", &start, &end, perms, &off, &maj,
				   &min, &ino, path);
			if (n >= 7 && perms[2] == 'x' && end > start) {
				struct gp_mapping *m;
				char *p = path;

				while (*p == ' ')
					p++;
				if (maps->n == cap) {
					size_t ncap = cap ? cap * 2 : 64;
					struct gp_mapping *nm = realloc(maps->m, ncap * sizeof(*nm));

					if (!nm)
						goto nomem;
					maps->m = nm;
					cap = ncap;
				}
				m = &maps->m[maps->n];
				m->start = start;
				m->end = end;
				m->offset = off;
				m->dev = makedev(maj, min);
				m->ino = (ino_t)ino;
				m->exec = true;
				m->resolved = false;
				m->binary = NULL;
				m->path = strdup(p);
				if (!m->path)
					goto nomem;
				maps->n++;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
nomem:
	gp_maps_free(maps);
	return gp_err(-ENOMEM, "out of memory reading process maps");
}

int gp_maps_read(struct gp_maps *maps, int pid)
{
	char path[64], *text = NULL;
	size_t len = 0, cap = 0, r;
	FILE *f;
	int err;

	memset(maps, 0, sizeof(*maps));
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f) {
		err = errno == ENOENT ? -ESRCH : -errno;
		return gp_err(err, "%s: %s", path, err == -ESRCH ? "no such process" : strerror(-err));
	}
	do {
		if (cap - len < 4096) {
			char *t = realloc(text, cap = cap ? cap * 2 : 65536);

			if (!t) {
				free(text);
				fclose(f);
				return gp_err(-ENOMEM, "%s: out of memory", path);
			}
			text = t;
		}
		r = fread(text + len, 1, cap - len - 1, f);
		len += r;
	} while (r > 0);
	fclose(f);
	text[len] = '\0';
	err = gp_maps_parse(maps, text);
	free(text);
	return err;
}

void gp_maps_free(struct gp_maps *maps)
{
	for (size_t i = 0; i < maps->n; i++)
		free(maps->m[i].path);
	free(maps->m);
	memset(maps, 0, sizeof(*maps));
}

struct gp_mapping *gp_maps_find(const struct gp_maps *maps, uint64_t addr)
{
	size_t lo = 0, hi = maps->n;

	/* maps are sorted by address, as the kernel prints them. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < maps->m[mid].start)
			hi = mid;
		else if (addr >= maps->m[mid].end)
			lo = mid + 1;
		else
			return &maps->m[mid];
	}
	return NULL;
}
