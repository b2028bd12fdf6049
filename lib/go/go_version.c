// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Go release version strings. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "go/go_version.h"

int gp_go_minor_version(const char *version, int *minor)
{
	char *end;
	long v;

	if (version && !strncmp(version, "devel go1.", 10))
		version += 6; /* a development toolchain: "devel go1.28-abcdef Tue ..." */
	if (!version || strncmp(version, "go1.", 4))
		return -EINVAL;
	v = strtol(version + 4, &end, 10);
	if (end == version + 4 || v < 0 || v > 1000)
		return -EINVAL;
	*minor = (int)v;
	return 0;
}
