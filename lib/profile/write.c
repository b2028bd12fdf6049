// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* goprof_profile_write(): option checks, format dispatch, files. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "goprof/error.h"
#include "profile/encode.h"
#include "profile/otlp.h"

static const char *format_name(uint32_t format)
{
	switch (format) {
	case GOPROF_FORMAT_PPROF: return "pprof";
	case GOPROF_FORMAT_FOLDED: return "folded";
	case GOPROF_FORMAT_SVG: return "svg";
	case GOPROF_FORMAT_OTLP: return "otlp";
	default: return NULL;
	}
}

GOPROF_API int goprof_profile_write(const struct goprof_profile *p, uint32_t format,
				    const struct goprof_profile_write_opts *opts,
				    goprof_profile_write_fn fn, void *ctx)
{
	struct gp_write_cfg cfg;
	struct gp_out o;
	int err;

	if (!p || !fn)
		return gp_err(-EINVAL, "goprof_profile_write: profile and write callback must not be NULL");
	if (!format_name(format))
		return gp_err(-EINVAL, "goprof_profile_write: unknown format %u (use GOPROF_FORMAT_PPROF, "
				       "GOPROF_FORMAT_FOLDED, GOPROF_FORMAT_SVG or GOPROF_FORMAT_OTLP)", format);
	err = OPTS_VALID(opts, goprof_profile_write_opts, link_keys);
	if (err)
		return err;
	cfg.value_index = OPTS_GET(opts, value_index, 0);
	cfg.flags = OPTS_GET(opts, flags, 0);
	cfg.title = OPTS_GET(opts, title, NULL);
	if (cfg.value_index >= p->nr_types)
		return gp_err(-EINVAL, "goprof_profile_write: value_index %u out of range (the profile "
				       "has %u sample types)", cfg.value_index, p->nr_types);
	if (cfg.flags & ~(GOPROF_WRITE_PPROF_UNCOMPRESSED | GOPROF_WRITE_FOLDED_UNIT))
		return gp_err(-EINVAL, "goprof_profile_write: unknown flags 0x%x", cfg.flags);
	if (gp_out_init(&o, fn, ctx))
		return gp_err(-ENOMEM, "goprof_profile_write: out of memory");
	switch (format) {
	case GOPROF_FORMAT_PPROF:
		err = gp_encode_pprof(p, &cfg, &o);
		break;
	case GOPROF_FORMAT_FOLDED:
		err = gp_encode_folded(p, &cfg, &o);
		break;
	case GOPROF_FORMAT_OTLP:
		err = gp_encode_otlp(p, opts, &o);
		break;
	default:
		err = gp_encode_svg(p, &cfg, &o);
		break;
	}
	if (!err)
		err = gp_out_flush(&o);
	if (!err)
		err = o.err;
	gp_out_fini(&o);
	if (!err)
		gp_clear_error();
	return err;
}

struct file_sink {
	int fd;
	int err; /* write(2) failure, reported with the path */
};

static int file_write(const void *data, size_t len, void *ctx)
{
	struct file_sink *f = ctx;
	const char *p = data;

	while (len) {
		ssize_t n = write(f->fd, p, len);

		if (n < 0) {
			int err = -errno;

			if (err == -EINTR)
				continue;
			f->err = err;
			return err;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Opens a temporary file next to path (".NAME.goprof-XXXXXXXXXXXXXXXX", O_EXCL and
 * O_NOFOLLOW, mode 0666 minus the umask); its name in *tmp (malloc'd). A file descriptor or
 * a negative errno.
 */
static int open_temp(const char *path, char **tmp)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0, len = strlen(path) + 40;
	int fd = -EEXIST;

	*tmp = malloc(len);
	if (!*tmp)
		return -ENOMEM;
	for (int tries = 0; tries < 64 && fd == -EEXIST; tries++) {
		uint64_t r;

		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
			r = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL) ^ (uint64_t)tries << 20;
		snprintf(*tmp, len, "%.*s.%s.goprof-%016llx", (int)dirlen, path, path + dirlen,
			 (unsigned long long)r);
		fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd < 0)
			fd = -errno;
	}
	if (fd < 0) {
		free(*tmp);
		*tmp = NULL;
	}
	return fd;
}

/*
 * Chooses how path is written. A regular file or a new name: a temporary file renamed over
 * it (*tmp set), so that a link planted under the name is replaced and never written
 * through. A FIFO or device: written in place. A symbolic link: followed only when it
 * belongs to us or to root. The file descriptor, or a negative errno with the error set.
 */
static int open_output(const char *path, char **tmp, bool *regular)
{
	struct stat st;
	int fd, err;

	*tmp = NULL;
	*regular = false;
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		if (st.st_uid != 0 && st.st_uid != geteuid())
			return gp_err(-ELOOP, "open %s: a symbolic link that belongs to uid %u, not to "
				      "uid %u or root: not followed, since its owner could point it at "
				      "any file", path, (unsigned)st.st_uid, (unsigned)geteuid());
		/* Ours: written where it points, like any path of ours. */
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0666);
		if (fd < 0) {
			err = -errno;
			return gp_err(err, "open %s: %s", path, strerror(-err));
		}
		return fd; /* never removed on failure: that would remove the link */
	}
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		fd = open(path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			err = -errno;
			return gp_err(err, "open %s: %s", path, strerror(-err));
		}
		return fd;
	}
	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return gp_err(-EISDIR, "open %s: %s", path, strerror(EISDIR));
	fd = open_temp(path, tmp);
	if (fd >= 0)
		return fd;
	err = fd;
	if ((err == -EACCES || err == -EROFS || err == -EPERM) && lstat(path, &st) == 0) {
		/* A file we may write in a directory we may not: in place, links not followed. */
		fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
		*regular = fd >= 0;
		if (fd >= 0)
			return fd;
		err = -errno;
	}
	return gp_err(err, "open %s: %s", path, strerror(-err));
}

GOPROF_API int goprof_profile_write_file(const struct goprof_profile *p, uint32_t format,
					 const struct goprof_profile_write_opts *opts,
					 const char *path)
{
	struct file_sink f = { .fd = -1 };
	bool regular;
	char msg[1024], *tmp = NULL;
	int err;

	if (!p || !path)
		return gp_err(-EINVAL, "goprof_profile_write_file: profile and path must not be NULL");
	f.fd = open_output(path, &tmp, &regular);
	if (f.fd < 0)
		return f.fd;
	err = goprof_profile_write(p, format, opts, file_write, &f);
	if (err && f.err)
		gp_err(err, "write %s: %s", path, strerror(-f.err));
	if (close(f.fd) && !err) {
		err = -errno;
		gp_err(err, "close %s: %s", path, strerror(-err));
	}
	/* rename() replaces whatever is under the name now, a planted link included. */
	if (!err && tmp && rename(tmp, path)) {
		err = -errno;
		gp_err(err, "rename %s to %s: %s", tmp, path, strerror(-err));
	}
	if (err) {
		/* Keep the message of the real failure, not of the cleanup. Only a regular
		 * file we created is removed: never a device or FIFO the host named. */
		gp_strlcpy(msg, goprof_last_error(), sizeof(msg));
		if (tmp)
			unlink(tmp);
		else if (regular)
			unlink(path);
		gp_err(err, "%s", msg);
	}
	free(tmp);
	return err;
}
