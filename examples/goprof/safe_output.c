// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Output files that nobody else can redirect: see safe_output.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "safe_output.h"

#define TAG "goprof record: "

static const char *user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	snprintf(buf, len, "uid %u%s%s%s", (unsigned)uid, pw ? " (" : "", pw ? pw->pw_name : "",
		 pw ? ")" : "");
	return buf;
}

/* The directory behind fd may hold our output: ours and writable by nobody else. */
static int check_dir(int fd, const char *path)
{
	char who[128], me[128];
	struct stat st;

	if (fstat(fd, &st)) {
		fprintf(stderr, TAG "cannot use %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (st.st_uid != geteuid()) {
		fprintf(stderr, TAG "refusing output directory %s: it belongs to %s, not to %s that "
			"goprof runs as, so its owner could redirect the files written there "
			"(choose a directory of your own with -o)\n", path,
			user_name(st.st_uid, who, sizeof(who)), user_name(geteuid(), me, sizeof(me)));
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		fprintf(stderr, TAG "refusing output directory %s: it is writable by %s (mode %04o), "
			"so other users could redirect the files written there (chmod go-w %s, "
			"or choose another directory with -o)\n", path,
			st.st_mode & S_IWOTH ? "every user" : "its group",
			(unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

static int open_dir(struct safe_dir *d, int parent_fd, const char *name, const char *path)
{
	int fd;

	d->fd = -1;
	snprintf(d->path, sizeof(d->path), "%s", path);
	if (mkdirat(parent_fd, name, 0755) && errno != EEXIST) {
		fprintf(stderr, TAG "cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (e == ELOOP || e == ENOTDIR) {
			struct stat st;
			bool link = fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				    S_ISLNK(st.st_mode);

			fprintf(stderr, TAG "refusing output directory %s: %s\n", path,
				link ? "it is a symbolic link (give the directory it points to, "
				       "if that is really meant)" : "not a directory");
		} else {
			fprintf(stderr, TAG "cannot open %s: %s\n", path, strerror(e));
		}
		return -1;
	}
	if (check_dir(fd, path)) {
		close(fd);
		return -1;
	}
	/* Said now, not after a whole recording is lost (root passes unless read-only). */
	if (faccessat(fd, ".", W_OK | X_OK, AT_EACCESS)) {
		fprintf(stderr, TAG "cannot write to output directory %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	d->fd = fd;
	return 0;
}

/* Links followed on the way to the output directory, at most (the kernel's limit). */
#define MAX_LINKS 40

/*
 * Opens (O_PATH) the directory named by dir, one component at a time with O_NOFOLLOW: a
 * symbolic link on the way is followed only if it belongs to root or to us, since the
 * owner of any other link could point the path, and the files written under it,
 * anywhere (a link in another user's directory, like /home/alice/prof -> /etc). path is
 * the whole -o argument, for messages. A descriptor, or -1 (said on stderr).
 */
static int open_parent(const char *dir, const char *path)
{
	char rest[8192], comp[256], target[4096];
	int cur = AT_FDCWD, links = 0;

	snprintf(rest, sizeof(rest), "%s", dir);
	for (;;) {
		struct stat st;
		size_t n;
		ssize_t len;
		int fd;

		if (rest[0] == '/') {
			if (cur >= 0)
				close(cur);
			cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (cur < 0)
				goto fail;
			memmove(rest, rest + strspn(rest, "/"), strlen(rest + strspn(rest, "/")) + 1);
		}
		if (!rest[0]) {
			/* "." (or only "." components): the working directory itself. */
			if (cur == AT_FDCWD && (cur = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
				goto fail;
			return cur;
		}
		n = strcspn(rest, "/");
		if (n >= sizeof(comp)) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		memcpy(comp, rest, n);
		comp[n] = '\0';
		memmove(rest, rest + n + strspn(rest + n, "/"), strlen(rest + n + strspn(rest + n, "/")) + 1);
		if (!strcmp(comp, "."))
			continue;
		if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW))
			goto fail;
		if (S_ISLNK(st.st_mode)) {
			char who[128];

			if (st.st_uid != 0 && st.st_uid != geteuid()) {
				fprintf(stderr, TAG "refusing output directory %s: its path goes through "
					"%s, a symbolic link of %s, who could point it anywhere\n", path,
					comp, user_name(st.st_uid, who, sizeof(who)));
				goto out;
			}
			len = readlinkat(cur, comp, target, sizeof(target) - 1);
			if (len < 0 || ++links > MAX_LINKS) {
				if (len >= 0)
					errno = ELOOP;
				goto fail;
			}
			target[len] = '\0';
			/* The link's target, then what was left of the path. */
			if (strlen(target) + 1 + strlen(rest) + 1 > sizeof(rest)) {
				errno = ENAMETOOLONG;
				goto fail;
			}
			memmove(rest + len + 1, rest, strlen(rest) + 1);
			memcpy(rest, target, (size_t)len);
			rest[len] = '/';
			continue;
		}
		fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			goto fail;
		if (fstat(fd, &st) || !S_ISDIR(st.st_mode)) {
			close(fd);
			errno = ENOTDIR;
			goto fail;
		}
		if (cur >= 0)
			close(cur);
		cur = fd;
	}
fail:
	fprintf(stderr, TAG "cannot open %s: %s\n", path, strerror(errno));
out:
	if (cur >= 0)
		close(cur);
	return -1;
}

int safe_dir_open(struct safe_dir *d, const char *path)
{
	char name[4096], *slash, *base;
	size_t n;
	int parent, rc;

	d->fd = -1;
	/* "dir/" would follow a link named dir: strip the slashes (but keep "/"). */
	snprintf(name, sizeof(name), "%s", path);
	n = strlen(name);
	while (n > 1 && name[n - 1] == '/')
		name[--n] = 0;
	slash = strrchr(name, '/');
	if (!slash || !strcmp(name, "/"))
		return open_dir(d, AT_FDCWD, name, name);
	/* The directories leading to it, walked without following strangers' links. */
	base = slash + 1;
	*slash = '\0';
	parent = open_parent(slash == name ? "/" : name, path);
	*slash = '/';
	if (parent < 0)
		return -1;
	rc = open_dir(d, parent, base, name);
	close(parent);
	return rc;
}

int safe_dir_open_at(struct safe_dir *d, const struct safe_dir *parent, const char *name)
{
	char path[sizeof(parent->path) + 256];

	snprintf(path, sizeof(path), "%s/%.255s", parent->path, name);
	return open_dir(d, parent->fd, name, path);
}

void safe_dir_close(struct safe_dir *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

/* Creates a new file dir/name with O_EXCL|O_NOFOLLOW: never an existing file or link. */
static int create_new(const struct safe_dir *d, const char *name)
{
	int fd = openat(d->fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0)
		fprintf(stderr, TAG "cannot create %s/%s: %s\n", d->path, name, strerror(errno));
	return fd;
}

int safe_file_begin(struct safe_file *sf, const struct safe_dir *d, const char *name)
{
	int fd = -1;

	*sf = (struct safe_file){ .dir = d };
	snprintf(sf->name, sizeof(sf->name), "%s", name);
	for (int tries = 0; tries < 100 && fd < 0; tries++) {
		uint64_t r;

		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
			r = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid() << 32 ^ (uint64_t)tries;
		snprintf(sf->tmp, sizeof(sf->tmp), ".goprof-tmp-%016llx", (unsigned long long)r);
		fd = openat(d->fd, sf->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		fprintf(stderr, TAG "cannot write %s/%s: creating a temporary file: %s\n", d->path,
			name, strerror(errno));
		return -1;
	}
	sf->f = fdopen(fd, "w");
	if (!sf->f) {
		fprintf(stderr, TAG "cannot write %s/%s: %s\n", d->path, name, strerror(errno));
		close(fd);
		unlinkat(d->fd, sf->tmp, 0);
		return -1;
	}
	return 0;
}

int safe_file_commit(struct safe_file *sf, int ok)
{
	const struct safe_dir *d = sf->dir;
	int rc = 0;

	if (!sf->f)
		return -1;
	if (fflush(sf->f) || ferror(sf->f)) {
		if (ok)
			fprintf(stderr, TAG "writing %s/%s: %s\n", d->path, sf->name, strerror(errno));
		ok = 0;
	}
	if (fclose(sf->f) && ok) {
		fprintf(stderr, TAG "writing %s/%s: %s\n", d->path, sf->name, strerror(errno));
		ok = 0;
	}
	sf->f = NULL;
	/* renameat replaces a link planted under the name; it never writes through it. */
	if (ok && renameat(d->fd, sf->tmp, d->fd, sf->name)) {
		fprintf(stderr, TAG "cannot write %s/%s: %s\n", d->path, sf->name, strerror(errno));
		ok = 0;
	}
	if (!ok) {
		unlinkat(d->fd, sf->tmp, 0);
		rc = -1;
	}
	return rc;
}

static int to_file(const void *data, size_t len, void *ctx)
{
	return fwrite(data, 1, len, ctx) == len ? 0 : -EIO;
}

int safe_write_profile(const struct safe_dir *d, const char *name,
		       const struct goprof_profile *p, uint32_t format,
		       const struct goprof_profile_write_opts *opts)
{
	struct safe_file sf;
	int err;

	if (safe_file_begin(&sf, d, name))
		return -1;
	err = goprof_profile_write(p, format, opts, to_file, sf.f);
	if (err)
		fprintf(stderr, TAG "writing %s/%s: %s\n", d->path, name,
			ferror(sf.f) ? strerror(errno) : goprof_last_error());
	return safe_file_commit(&sf, !err) || err ? -1 : 0;
}

FILE *safe_stream_create(const struct safe_dir *d, const char *name)
{
	FILE *f;
	int fd;

	if (unlinkat(d->fd, name, 0) && errno != ENOENT) {
		fprintf(stderr, TAG "cannot replace %s/%s: %s\n", d->path, name, strerror(errno));
		return NULL;
	}
	fd = create_new(d, name);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	if (!f) {
		fprintf(stderr, TAG "cannot write %s/%s: %s\n", d->path, name, strerror(errno));
		close(fd);
	}
	return f;
}

FILE *safe_stream_append(const struct safe_dir *d, const char *name, int *created)
{
	struct stat st;
	FILE *f;
	int fd;

	*created = 0;
	fd = openat(d->fd, name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1; /* a FIFO or device under that name: replaced below */
	}
	if (fd < 0) {
		*created = 1;
		return safe_stream_create(d, name);
	}
	f = fdopen(fd, "a");
	if (!f) {
		fprintf(stderr, TAG "cannot write %s/%s: %s\n", d->path, name, strerror(errno));
		close(fd);
	}
	return f;
}

int safe_symlink_replace(const struct safe_dir *d, const char *target, const char *name)
{
	char tmp[300];

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	if ((unlinkat(d->fd, tmp, 0) && errno != ENOENT) || symlinkat(target, d->fd, tmp) ||
	    renameat(d->fd, tmp, d->fd, name)) {
		fprintf(stderr, TAG "updating %s/%s: %s\n", d->path, name, strerror(errno));
		unlinkat(d->fd, tmp, 0);
		return -1;
	}
	return 0;
}

int safe_remove_tree(const struct safe_dir *d, const char *name)
{
	struct dirent *de;
	int fd, rc = 0;
	DIR *dir;

	fd = openat(d->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		/* A link or a file under that name: remove the entry itself, nothing it names. */
		if ((errno == ELOOP || errno == ENOTDIR) && unlinkat(d->fd, name, 0) == 0)
			return 0;
		fprintf(stderr, TAG "removing %s/%s: %s\n", d->path, name, strerror(errno));
		return -1;
	}
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -1;
	}
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* Files and links only (a window holds nothing else); unlinkat never follows. */
		if (unlinkat(fd, de->d_name, 0) && errno != ENOENT) {
			fprintf(stderr, TAG "removing %s/%s/%s: %s\n", d->path, name, de->d_name,
				strerror(errno));
			rc = -1;
		}
	}
	closedir(dir);
	if (unlinkat(d->fd, name, AT_REMOVEDIR) && errno != ENOENT) {
		fprintf(stderr, TAG "removing %s/%s: %s\n", d->path, name, strerror(errno));
		rc = -1;
	}
	return rc;
}
