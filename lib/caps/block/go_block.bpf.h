/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Goroutine blocking and channel statistics (included by go_runtime.bpf.c: they share
 * its maps and helpers).
 *
 * Blocking: runtime.gopark(unlockf, lock, reason, traceReason, traceskip) runs on the
 * goroutine that parks (g in R14/R28, the wait reason in argument 3); the park record (time, reason,
 * stack) waits in an LRU map keyed by goroutine until runtime.casgstatus(gp, _Gwaiting,
 * x) makes the goroutine runnable again (ready(), netpoll, timers, semaphores), then goes
 * to the ring buffer with the wake time. For "chan send"/"chan receive" the lock argument
 * is &hchan.lock, which names the channel.
 *
 * Channels: runtime.chansend(c, ...) and runtime.chanrecv(c, ...) entries count operations
 * and read the buffer's capacity and occupancy; blocked operations and their times are
 * added at the wake. Aggregated in the kernel: these run on every channel operation.
 */
#ifndef GOPROF_GO_BLOCK_BPF_H
#define GOPROF_GO_BLOCK_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GP_MAX_PARKED);
	__type(key, struct gp_goroutine_key);
	__type(value, struct gp_block_event);
} parked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gp_block_event);
} park_scratch SEC(".maps");

/* Bounded, not LRU: a full map is counted (GP_LOST_CHANNELS_FULL), never silent. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GP_MAX_CHANNELS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct gp_chan_key);
	__type(value, struct gp_chan_stats);
} channels SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gp_chan_stats);
} chan_scratch SEC(".maps");

/* GOPROF_FEATURE_CHANNELS: blocked channel operations also go to the channel map. */
const volatile __u8 track_channels = 0;

#define G_WAITING 4
#define GP_EEXIST 17 /* errno.h is not available to BPF programs */

/* The stats of channel addr of pid, created (with the first use's stack) if new. */
static __always_inline struct gp_chan_stats *chan_entry(__u32 pid, __u64 addr, const __u64 *stack,
							__u32 nr_stack)
{
	struct gp_chan_key key = { .pid = pid, .addr = addr };
	struct gp_chan_stats *st = bpf_map_lookup_elem(&channels, &key);
	__u64 hdr[2] = {}; /* qcount, dataqsiz */
	__u32 zero = 0;
	long err;

	if (st)
		return st;
	st = bpf_map_lookup_elem(&chan_scratch, &zero);
	if (!st)
		return NULL;
	__builtin_memset(st, 0, sizeof(*st));
	st->first_ns = bpf_ktime_get_ns();
	bpf_probe_read_user(hdr, sizeof(hdr), (void *)addr);
	st->capacity = (__u32)hdr[1];
	if (nr_stack > GP_CHAN_STACK_DEPTH)
		nr_stack = GP_CHAN_STACK_DEPTH;
	/* All slots, no test against nr_stack (see entry_stack()): the rest is not read. */
	for (__u32 i = 0; i < GP_CHAN_STACK_DEPTH; i++)
		st->stack[i] = stack[i];
	st->nr_stack = nr_stack;
	err = bpf_map_update_elem(&channels, &key, st, BPF_NOEXIST);
	if (err && err != -GP_EEXIST) { /* full (EEXIST: another CPU created it first) */
		bump(&lost, GP_LOST_CHANNELS_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(&channels, &key); /* ours, or another CPU's */
}

SEC("uprobe")
int go_gopark(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), lock = GO_ARG2(ctx);
	struct gp_goroutine_key key = { .pid = id >> 32 };
	struct gp_block_event *ev;
	struct gp_target *t;
	__u32 zero = 0;
	bool unwound;

	t = go_target(key.pid, GP_PROBE_GOPARK);
	ev = t ? bpf_map_lookup_elem(&park_scratch, &zero) : NULL;
	if (!ev)
		return 0;
	key.goid = goid_of(t, GO_G(ctx));
	if (!key.goid)
		return 0;
	ev->type = GP_REC_BLOCK;
	ev->pid = key.pid;
	ev->tid = (__u32)id;
	ev->park_ns = bpf_ktime_get_ns();
	ev->wake_ns = 0;
	ev->goid = key.goid;
	ev->reason = (__u8)GO_ARG3(ctx);
	ev->chan = 0;
	if (lock && t->hchan_lock && t->wait_chan_send &&
	    (ev->reason == t->wait_chan_send || ev->reason == t->wait_chan_recv))
		ev->chan = lock - t->hchan_lock;
	ev->nr_stack = entry_stack(ctx, ev->stack, sizeof(ev->stack), &unwound);
	ev->flags = unwound ? 0 : GP_BLOCK_F_NO_STACK;
	if (ev->nr_stack >= GP_BLOCK_STACK_DEPTH)
		ev->flags |= GP_BLOCK_F_TRUNCATED;
	bpf_map_update_elem(&parked, &key, ev, BPF_ANY);
	return 0;
}

static __always_inline void chan_blocked(const struct gp_target *t, const struct gp_block_event *ev,
					 __u64 ns)
{
	struct gp_chan_stats *st = chan_entry(ev->pid, ev->chan, ev->stack, ev->nr_stack);
	__u32 b = log2_bucket_us(ns) & (GP_CHAN_BUCKETS - 1);

	if (!st)
		return;
	if (ev->reason == t->wait_chan_send) {
		__sync_fetch_and_add(&st->blocked_sends, 1);
		__sync_fetch_and_add(&st->send_hist[b], 1);
		__sync_fetch_and_add(&st->send_blocked_ns, ns);
	} else {
		__sync_fetch_and_add(&st->blocked_recvs, 1);
		__sync_fetch_and_add(&st->recv_hist[b], 1);
	}
	__sync_fetch_and_add(&st->blocked_ns, ns);
	if (ns > st->max_blocked_ns)
		st->max_blocked_ns = ns; /* racy max: at worst a close second wins */
}

/* runtime.casgstatus(gp, oldval, newval): leaving _Gwaiting ends a park. */
SEC("uprobe")
int go_block_wake(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), size, ns;
	__u32 oldval = (__u32)GO_ARG2(ctx) & ~G_SCAN, newval = (__u32)GO_ARG3(ctx) & ~G_SCAN;
	struct gp_goroutine_key key = { .pid = id >> 32 };
	struct gp_block_event *ev;
	struct gp_target *t;
	__u32 n;

	/* Counted before the filter: every casgstatus call pays for the trap. */
	t = go_target(key.pid, GP_PROBE_BLOCK_WAKE);
	if (!t || oldval != G_WAITING || newval == G_WAITING)
		return 0;
	key.goid = goid_of(t, GO_ARG1(ctx));
	ev = bpf_map_lookup_elem(&parked, &key);
	if (!ev)
		return 0; /* not parked by gopark (GC suspension), or parked before we looked */
	ev->wake_ns = bpf_ktime_get_ns();
	ns = ev->wake_ns - ev->park_ns;
	if (ev->chan && track_channels)
		chan_blocked(t, ev, ns);
	n = ev->nr_stack;
	if (n > GP_BLOCK_STACK_DEPTH)
		n = GP_BLOCK_STACK_DEPTH;
	size = GP_BLOCK_EVENT_SIZE(n);
	if (size > sizeof(*ev))
		size = sizeof(*ev);
	if (bpf_ringbuf_output(&samples, ev, size, 0))
		bump(&lost, GP_LOST_BLOCK_RECORDS);
	bpf_map_delete_elem(&parked, &key);
	return 0;
}

static __always_inline int chan_op(struct pt_regs *ctx, bool send)
{
	__u64 id = bpf_get_current_pid_tgid(), c = GO_ARG1(ctx), hdr[2] = {};
	struct gp_block_event *tmp;
	struct gp_chan_stats *st;
	__u32 zero = 0, n;
	bool unwound;

	if (!c || !go_target(id >> 32, GP_PROBE_CHANOPS))
		return 0; /* nil channel: blocks forever, on no channel */
	st = bpf_map_lookup_elem(&channels, &(struct gp_chan_key){ .pid = id >> 32, .addr = c });
	if (!st) {
		/* The first use: its stack, taken in the park scratch (chan_entry builds the
		 * entry in its own scratch). */
		tmp = bpf_map_lookup_elem(&park_scratch, &zero);
		if (!tmp)
			return 0;
		n = entry_stack(ctx, tmp->stack, GP_CHAN_STACK_DEPTH * sizeof(__u64), &unwound);
		st = chan_entry(id >> 32, c, tmp->stack, n);
		if (!st)
			return 0;
	}
	bpf_probe_read_user(hdr, sizeof(hdr), (void *)c);
	if (send)
		__sync_fetch_and_add(&st->sends, 1);
	else
		__sync_fetch_and_add(&st->recvs, 1);
	__sync_fetch_and_add(&st->sum_qcount, hdr[0]);
	if (hdr[0] > st->max_qcount)
		st->max_qcount = (__u32)hdr[0];
	return 0;
}

/* runtime.chansend(c *hchan, ep, block, callerpc) */
SEC("uprobe")
int go_chansend(struct pt_regs *ctx)
{
	return chan_op(ctx, true);
}

/* runtime.chanrecv(c *hchan, ep, block) */
SEC("uprobe")
int go_chanrecv(struct pt_regs *ctx)
{
	return chan_op(ctx, false);
}

#endif
