// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The ring buffer every BPF program writes its records to: taking them in, in slices,
 * and handing each to its taker: the capability registered for its type, the capabilities
 * that look at CPU samples, or the process table for exec and exit.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <poll.h>
#include <time.h>

#include "core/session.h"

/*
 * High-rate records do not wake the poller one by one (bpf/shared.bpf.h lazy_wakeup()),
 * and a record that did not wake it leaves the ring's descriptor unreadable: what is
 * waiting is taken in first, and a long wait is cut into slices of this length.
 */
#define POLL_SLICE_MS 100
/* gp_records_handle()'s "slice spent" (s->yielded tells it from a callback's own error). */
#define GP_RING_YIELD (-ECANCELED)

/* Buffer pressure: the most data ever found waiting while records are taken in. */
void gp_records_note_fill(struct goprof_session *s)
{
	struct ring *r = ring_buffer__ring(s->ringbuf, 0);

	if (r)
		s->ringbuf_high_water = GP_MAX(s->ringbuf_high_water, (uint64_t)ring__avail_data_size(r));
}

static int take_sample(struct goprof_session *s, const struct gp_sample_event *ev, size_t len)
{
	if (len < GP_SAMPLE_EVENT_HEADER_SIZE ||
	    len < GP_SAMPLE_EVENT_SIZE(GP_MIN(ev->nr_user, GP_MAX_STACK_DEPTH),
				       GP_MIN(ev->nr_kernel, GP_MAX_STACK_DEPTH)))
		return 0;
	return gp_caps_sample(&s->caps, ev);
}

static int dispatch(struct goprof_session *s, void *data, size_t len)
{
	uint32_t type = *(const uint32_t *)data;
	const struct gp_cap_slot *cap = gp_caps_record_taker(&s->caps, type);

	if (type != GP_REC_SAMPLE && !(cap && cap->ops->counts_own_records))
		s->events_delivered++;
	gp_records_note_fill(s); /* two loads: what is still waiting behind this record */
	if (cap)
		return cap->ops->take_record(cap->state, data, len);
	switch (type) {
	case GP_REC_SAMPLE:
		return take_sample(s, data, len);
	case GP_REC_EXEC:
		return len >= sizeof(struct gp_exec_event) ? gp_procs_on_exec(s, data) : 0;
	case GP_REC_EXIT:
		return len >= sizeof(struct gp_exec_event) ? gp_procs_on_exit(s, data) : 0;
	}
	return 0;
}

/*
 * A producer faster than us (a goroutine storm, a sanitized build) would keep libbpf's
 * consume loop going forever, and the budget that could stop the storm would never run:
 * after each record, once the call's slice is spent, a negative return stops the loop
 * (libbpf has already moved past the record) and gp_records_take_in() hands back.
 */
int gp_records_handle(void *session, void *data, size_t len)
{
	struct goprof_session *s = session;
	int ret = len < sizeof(uint32_t) ? 0 : dispatch(s, data, len);

	if (ret < 0)
		return ret;
	if (++s->taken_in_call % 64 == 0 && gp_clock_ns(CLOCK_MONOTONIC) > s->take_in_until_ns) {
		s->yielded = true;
		return GP_RING_YIELD;
	}
	return 0;
}

/* Takes in what waits now, handing back once the slice is spent (see gp_records_handle). */
static int consume_slice(struct goprof_session *s)
{
	int n;

	s->taken_in_call = 0;
	s->yielded = false;
	s->take_in_until_ns = gp_clock_ns(CLOCK_MONOTONIC) + (int64_t)POLL_SLICE_MS * 1000000;
	n = ring_buffer__consume(s->ringbuf);
	return s->yielded ? (int)s->taken_in_call : n;
}

int gp_records_take_in(struct goprof_session *s, int timeout_ms)
{
	int64_t deadline_ns = gp_clock_ns(CLOCK_MONOTONIC) + (int64_t)timeout_ms * 1000000;
	struct pollfd pfd = { .fd = ring_buffer__epoll_fd(s->ringbuf), .events = POLLIN };
	int n = consume_slice(s);

	while (n == 0 && timeout_ms != 0) {
		int64_t left_ms = timeout_ms < 0 ? POLL_SLICE_MS
						 : (deadline_ns - gp_clock_ns(CLOCK_MONOTONIC)) / 1000000;

		if (left_ms <= 0)
			break;
		if (poll(&pfd, 1, (int)GP_MIN(left_ms, POLL_SLICE_MS)) < 0)
			return -errno;
		n = consume_slice(s);
	}
	return n;
}
