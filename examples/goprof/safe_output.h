/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Output files of goprof record that nobody else can redirect (issue 15).
 *
 * goprof runs as root; its output directory may sit where other users can write. Every
 * file is therefore created relative to a directory descriptor opened once, never through
 * a path looked up again:
 *
 *   - the output directory (and each subdirectory) is opened with O_NOFOLLOW and refused
 *     unless it belongs to the user goprof runs as and no one else can write to it; the
 *     directories leading to it are walked with O_NOFOLLOW, following only links that
 *     belong to root or to that user;
 *   - a finished file is written to a new temporary name (O_CREAT|O_EXCL|O_NOFOLLOW) and
 *     renamed over its final name with renameat(): a symlink or hard link planted under
 *     that name is replaced, never written through;
 *   - a file written as it goes (events.jsonl) is unlinked and created anew with
 *     O_EXCL|O_NOFOLLOW; one appended to (windows.tsv) is opened with O_NOFOLLOW and
 *     used only if it is a regular file;
 *   - removals (old --interval windows) go through the directory descriptor and never
 *     follow a link.
 *
 * Errors are said on stderr, naming the path and why.
 */
#ifndef GOPROF_CLI_SAFE_OUTPUT_H
#define GOPROF_CLI_SAFE_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

struct goprof_profile;
struct goprof_profile_write_opts;

struct safe_dir {
	int fd;         /* -1 when not open */
	char path[4096]; /* for messages only: never opened again */
};

/* Creates path (mode 0755) if missing, opens it and checks who owns it; 0 or -1. */
int safe_dir_open(struct safe_dir *d, const char *path);
/* The same for the directory name inside parent. */
int safe_dir_open_at(struct safe_dir *d, const struct safe_dir *parent, const char *name);
void safe_dir_close(struct safe_dir *d);

/* A file being written under a temporary name, renamed into place by safe_file_commit(). */
struct safe_file {
	FILE *f;
	const struct safe_dir *dir;
	char tmp[64];
	char name[256];
};

/* Starts name in d; 0 or -1. */
int safe_file_begin(struct safe_file *sf, const struct safe_dir *d, const char *name);
/* Closes and renames the file into place (ok) or removes it (!ok); 0 or -1. */
int safe_file_commit(struct safe_file *sf, int ok);

/* Writes a profile as d/name (goprof_profile_write() into a safe_file); 0 or -1. */
int safe_write_profile(const struct safe_dir *d, const char *name,
		       const struct goprof_profile *p, uint32_t format,
		       const struct goprof_profile_write_opts *opts);

/* A new, empty d/name for writing as events come (whatever was there is unlinked); NULL
 * on error. */
FILE *safe_stream_create(const struct safe_dir *d, const char *name);

/* d/name opened for appending, if it is a regular file there; else a new file as
 * safe_stream_create() makes it (*created says which). NULL on error. */
FILE *safe_stream_append(const struct safe_dir *d, const char *name, int *created);

/* Replaces d/name by a symlink to target (atomically); 0 or -1. */
int safe_symlink_replace(const struct safe_dir *d, const char *target, const char *name);

/* Removes d/name: a directory of files (not followed if it is a link), or whatever else
 * is there; 0 or -1. */
int safe_remove_tree(const struct safe_dir *d, const char *name);

#endif
