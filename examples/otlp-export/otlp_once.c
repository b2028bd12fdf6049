// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* otlp_export_once(): encode one profile and send it through a short-lived exporter. */
#include <errno.h>
#include <string.h>

#include <goprof/goprof.h>

#include "otlp_http.h"

int otlp_export_once(const char *url, const struct goprof_profile *p,
		     const struct goprof_profile_write_opts *wo, unsigned timeout_ms,
		     struct otlp_exporter_stats *st)
{
	struct otlp_exporter_stats local;
	struct otlp_buf buf = { 0 };
	struct otlp_exporter *x;
	int err;

	err = goprof_profile_write(p, GOPROF_FORMAT_OTLP, wo, otlp_buf_write, &buf);
	if (err) {
		otlp_buf_free(&buf);
		return err;
	}
	x = otlp_exporter_new(url, NULL);
	if (!x) {
		err = -errno;
		otlp_buf_free(&buf);
		return err;
	}
	err = otlp_exporter_enqueue(x, buf.data, buf.len);
	otlp_buf_free(&buf);
	if (!err)
		err = otlp_exporter_flush(x, timeout_ms);
	otlp_exporter_get_stats(x, st ? st : &local);
	otlp_exporter_free(x);
	if (!err && (st ? st : &local)->sent != 1)
		err = -EIO;
	return err;
}
