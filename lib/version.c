// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Run-time library version (the headers carry the compile-time one). */
#include "goprof/version.h"

GOPROF_API unsigned goprof_version(void)
{
	return GOPROF_VERSION_NUMBER;
}

GOPROF_API const char *goprof_version_string(void)
{
	return GOPROF_VERSION_STRING;
}
