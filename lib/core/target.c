// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Per-process settings for the BPF side, from the executable's Go build info. */
#include <stdio.h>

#include "go/go_offsets.h"
#include "go/go_validate.h"
#include "goprof/error.h"
#include "goprof/symbolizer.h"
#include "sym/symbolizer_internal.h"
#include "core/target.h"

/*
 * Checks the layout chosen from the build info against the process. A layout that does
 * not fit is dropped (no goroutine context, no runtime probes): a wrong goroutine ID is
 * worse than none. A known release whose process cannot be judged (not started yet,
 * unreadable) keeps its table layout; a newer release needs a positive result.
 */
static int validate(int pid, struct goprof_binary *bin, const char *version, bool newer,
		    struct gp_target *t, struct goprof_process_info *info)
{
	struct gp_validate_stats st;
	char why[128];
	int err;

	err = gp_go_validate(pid, bin, t, newer, &st, why, sizeof(why));
	if (err == 0) {
		info->flags |= GOPROF_PROCESS_GOROUTINES | GOPROF_PROCESS_LAYOUT_VALIDATED;
		if (newer)
			snprintf(info->note, sizeof(info->note),
				 "%s is newer than Go 1.%d: Go 1.%d's runtime layout was validated "
				 "against the process (%u goroutines) and is used", version,
				 gp_go_newest_known_minor(), gp_go_newest_known_minor(), st.checked);
		return 0;
	}
	if (err == -GOPROF_ERRNO_GO_VERSION || newer) {
		char note[320]; /* composed whole, then cut to the note's size */

		if (newer && err != -GOPROF_ERRNO_GO_VERSION && err != -EAGAIN)
			snprintf(note, sizeof(note),
				 "no goroutine context: Go 1.%d's layout cannot be validated for this %s "
				 "process: %s", gp_go_newest_known_minor(), version, why);
		else if (newer && err == -EAGAIN)
			snprintf(note, sizeof(note),
				 "no goroutine context yet: Go 1.%d's layout not validated for this %s "
				 "process so far: %s", gp_go_newest_known_minor(), version, why);
		else if (newer)
			snprintf(note, sizeof(note),
				 "no goroutine context: Go 1.%d's layout does not fit this %s process: %s",
				 gp_go_newest_known_minor(), version, why);
		else
			snprintf(note, sizeof(note),
				 "no goroutine context: the runtime layout of %s (build info) does not "
				 "fit this process: %s", version, why);
		gp_strlcpy(info->note, note, sizeof(info->note));
		memset(t, 0, sizeof(*t));
		return err == -EAGAIN ? GP_TARGET_UNDECIDED : 0;
	}
	info->flags |= GOPROF_PROCESS_GOROUTINES; /* known release, not disproved */
	return err == -EAGAIN ? GP_TARGET_UNDECIDED : 0;
}

int gp_target_inspect(const char *exe_path, int pid, struct gp_target *t,
		      struct goprof_process_info *info)
{
	/* The release may be newer than the symbolizer's: the layout is validated here. */
	GOPROF_OPTS(goprof_binary_opts, opts, .allow_newer_go = 1);
	struct goprof_binary *bin;
	const char *version;
	char saved_error[sizeof(info->note)];
	bool newer = false;
	int ret = 0;

	memset(t, 0, sizeof(*t));
	info->flags &= ~(GOPROF_PROCESS_GO | GOPROF_PROCESS_GOROUTINES | GOPROF_PROCESS_LAYOUT_VALIDATED);
	info->go_version[0] = '\0';
	info->note[0] = '\0';
	/* Inspection failures go into the note, not into the caller's last error. */
	gp_strlcpy(saved_error, goprof_last_error(), sizeof(saved_error));
	bin = goprof_binary_open(exe_path, &opts);
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
	if (gp_go_offsets_candidate(version, t, &newer)) {
		gp_strlcpy(info->note, goprof_last_error(), sizeof(info->note));
		goto out;
	}
	if (pid > 0) {
		ret = validate(pid, bin, version, newer, t, info);
	} else if (newer) {
		/* An executable attached by path: each process running it is validated. */
		memset(t, 0, sizeof(*t));
		snprintf(info->note, sizeof(info->note),
			 "%s is newer than Go 1.%d: goroutine context only for processes whose "
			 "runtime layout validates", version, gp_go_newest_known_minor());
	} else {
		info->flags |= GOPROF_PROCESS_GOROUTINES;
	}
out:
	goprof_binary_free(bin);
	gp_err(0, "%s", saved_error);
	return ret;
}
