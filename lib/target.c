// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Per-process settings for the BPF side, from the executable's Go build info. */
#include <stdio.h>

#include "go_offsets.h"
#include "goprof/error.h"
#include "goprof/symbolizer.h"
#include "sym/symbolizer_internal.h"
#include "target.h"

void gp_target_inspect(const char *exe_path, struct gp_target *t, struct goprof_process_info *info)
{
	struct goprof_binary *bin;
	const char *version;
	char saved_error[sizeof(info->note)];

	memset(t, 0, sizeof(*t));
	info->flags &= ~(GOPROF_PROCESS_GO | GOPROF_PROCESS_GOROUTINES);
	info->go_version[0] = '\0';
	info->note[0] = '\0';
	/* Inspection failures go into the note, not into the caller's last error. */
	gp_strlcpy(saved_error, goprof_last_error(), sizeof(saved_error));
	bin = goprof_binary_open(exe_path, NULL);
	if (!bin) {
		snprintf(info->note, sizeof(info->note), "cannot read the executable: %s",
			 goprof_last_error());
		goto out;
	}
	version = goprof_binary_go_version(bin);
	if (!goprof_binary_is_go(bin)) {
		snprintf(info->note, sizeof(info->note), "not a Go program: native and kernel frames only");
		goto out;
	}
	info->flags |= GOPROF_PROCESS_GO;
	gp_strlcpy(info->go_version, version ? version : "", sizeof(info->go_version));
	/* Runtime layouts are keyed by a release the pclntab does not contradict. */
	version = gp_go_release_check(bin, info->note, sizeof(info->note));
	if (!version)
		goto out;
	if (gp_go_offsets(version, t) == 0)
		info->flags |= GOPROF_PROCESS_GOROUTINES;
	else
		gp_strlcpy(info->note, goprof_last_error(), sizeof(info->note));
out:
	goprof_binary_free(bin);
	gp_err(0, "%s", saved_error);
}
