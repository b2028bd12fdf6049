/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/**
 * @file goprof.h
 * @brief Umbrella header of libgoprof: include this one.
 */
#ifndef GOPROF_GOPROF_H
#define GOPROF_GOPROF_H

#include <goprof/common.h>
#include <goprof/version.h>
#include <goprof/error.h>
#include <goprof/session.h>
#include <goprof/profile.h>
#include <goprof/symbolizer.h>

#endif /* GOPROF_GOPROF_H */
