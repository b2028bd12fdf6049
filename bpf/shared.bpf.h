/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * What every BPF object of a session shares (include after vmlinux.h, the libbpf
 * headers and goprof_bpf.h). The maps: the CPU sampler's object creates them; the others
 * are loaded with bpf_map__reuse_fd() on the sampler's descriptors, so these
 * declarations must match. And helpers.
 */
#ifndef GOPROF_SHARED_BPF_H
#define GOPROF_SHARED_BPF_H

/* Attached processes: tgid -> what to read from them. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GP_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct gp_target);
} targets SEC(".maps");

/* Every record for user space (samples, process and runtime events); resized by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} samples SEC(".maps");

/* Records lost, by cause (GP_LOST_*). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GP_LOST_NR);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/*
 * Flags for a high-rate record (a CPU sample, one per request, per channel operation...):
 * a wakeup costs the target an irq_work and a context switch of the poller, more than
 * the record itself. And a poller woken by every sample runs, phase-locked to the
 * sampling timers, where the next samples are taken: the CPU profile counted it in
 * place of the target's threads (a third of a busy thread's samples under ASan). So
 * such records wake the poller only once GP_WAKEUP_BYTES are pending or GP_WAKEUP_NS
 * after this object's last wakeup; goprof_session_poll() takes in the rest.
 */
#define GP_WAKEUP_BYTES (64 << 10)
#define GP_WAKEUP_NS (100 * 1000 * 1000ull)
static __u64 last_wakeup_ns; /* racy across CPUs: at worst one wakeup too many */
/* lazy_wakeup() for a record that read the clock already (now: bpf_ktime_get_ns()). */
static __always_inline __u64 lazy_wakeup_at(__u64 now)
{
	if (bpf_ringbuf_query(&samples, BPF_RB_AVAIL_DATA) < GP_WAKEUP_BYTES &&
	    now - last_wakeup_ns < GP_WAKEUP_NS)
		return BPF_RB_NO_WAKEUP;
	last_wakeup_ns = now;
	return BPF_RB_FORCE_WAKEUP;
}

static __always_inline __u64 lazy_wakeup(void)
{
	return lazy_wakeup_at(bpf_ktime_get_ns());
}

/* Adds one to entry idx of a per-CPU array. */
static __always_inline void bump(void *map, __u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(map, &idx);

	if (v)
		(*v)++; /* per-CPU slot: no atomics needed */
}

/* Whether ip is a user-space address: the kernel's half of the address space has the
 * top bit set (x86-64 and arm64, 4- and 5-level page tables). */
static __always_inline bool user_ip(__u64 ip)
{
	return !(ip >> 63);
}

/* x86-64 and arm64 keep a task's user registers at the top of its kernel stack:
 * THREAD_SIZE is 16 KiB there unless KASAN doubles it (no distribution kernel ships
 * KASAN) or arm64 runs 64 KiB pages (not Debian's; and its kernels, 6.1 and later, have
 * bpf_task_pt_regs()). */
#define GP_THREAD_SIZE (16 << 10)

/*
 * The current task's user registers (its syscall arguments, the frame pointer it was
 * interrupted at). bpf_task_pt_regs() exists from 5.15; before it they are found where
 * task_pt_regs() finds them. Read the result with probe reads (BPF_CORE_READ): it is a
 * trusted pointer only on the first path. NULL if the task has no stack.
 */
static __always_inline struct pt_regs *current_user_regs(void)
{
	struct task_struct *task;
	void *stack;

	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs))
		return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	task = (struct task_struct *)bpf_get_current_task();
	stack = BPF_CORE_READ(task, stack);
	if (!stack)
		return NULL;
	return (struct pt_regs *)(stack + GP_THREAD_SIZE - bpf_core_type_size(struct pt_regs));
}

#include "arch.bpf.h"

/* The current task's user frame pointer into *fp; false if unknown. */
static __always_inline bool task_user_fp(__u64 *fp)
{
	struct pt_regs *regs = current_user_regs();

	return regs && !bpf_probe_read_kernel(fp, sizeof(*fp), GP_REGS_FP_PTR(regs));
}

/* What a thread of a Go process runs: g (m.curg, or a system goroutine: g0, gsignal), its m
 * and m.curg (0 when the thread runs no user goroutine, e.g. in the scheduler). */
struct go_thread {
	__u64 g, m, curg;
};

/* m.g0: the first field of runtime.m in every release. */
#define GP_M_G0_OFFSET 0
/* m.gsignal is 112 bytes before m.curg in every release 1.19-1.27 (80/192, 72/184 from
 * 1.25: offsets.tsv). */
#define GP_M_GSIGNAL_BELOW_CURG 112

/*
 * Whether g, taken from a register C code may reuse (arm64), is one of m's own system
 * goroutines: m.g0 (scheduler, systemstack) or m.gsignal (a signal handler: Go's
 * preemption signal among them, frequent on busy goroutines). m.curg was checked first.
 */
static __always_inline bool own_system_g(const struct gp_target *t, __u64 m, __u64 g)
{
	__u64 g0 = 0, gsignal = 0;

	if (!bpf_probe_read_user(&g0, sizeof(g0), (void *)(m + GP_M_G0_OFFSET)) && g0 == g)
		return true;
	return t->m_curg >= GP_M_GSIGNAL_BELOW_CURG &&
	       !bpf_probe_read_user(&gsignal, sizeof(gsignal),
				    (void *)(m + t->m_curg - GP_M_GSIGNAL_BELOW_CURG)) &&
	       gsignal == g;
}

/*
 * The current thread of Go process t: g (gp_current_g(): valid even where the interrupted
 * instruction does not hold g in its register), then g.m and g.m.curg, which is the user
 * goroutine also while the thread runs on g0 or gsignal. Where g came from a register C
 * code may reuse (arm64), it must be m.curg, m.g0 or m.gsignal of its own m. Returns 0,
 * or -1 if the runtime was unreadable.
 */
static __always_inline int current_go_thread(const struct gp_target *t, struct go_thread *th)
{
	th->m = th->curg = 0;
	th->g = gp_current_g();
	if (!th->g ||
	    bpf_probe_read_user(&th->m, sizeof(th->m), (void *)(th->g + t->g_m)) || !th->m ||
	    bpf_probe_read_user(&th->curg, sizeof(th->curg), (void *)(th->m + t->m_curg)))
		return -1;
	if (GP_G_NEEDS_CHECK && th->g != th->curg && !own_system_g(t, th->m, th->g))
		return -1;
	return 0;
}

/* The user goroutine of the current thread (current_go_thread()); *curg is 0 if none. */
static __always_inline int current_curg(const struct gp_target *t, __u64 *curg)
{
	struct go_thread th;
	int err = current_go_thread(t, &th);

	*curg = th.curg;
	return err;
}

/* Every stack taken at a Go function's entry has this many slots. */
#define GP_ENTRY_STACK_DEPTH 32
_Static_assert(GP_CREATION_STACK_DEPTH == GP_ENTRY_STACK_DEPTH &&
	       GP_HEAP_STACK_DEPTH == GP_ENTRY_STACK_DEPTH &&
	       GP_BLOCK_STACK_DEPTH == GP_ENTRY_STACK_DEPTH, "entry stacks share entry_stack()");

/*
 * The user stack at a Go function's entry (leaf first, return addresses; stack has room
 * for GP_ENTRY_STACK_DEPTH entries, bytes_max limits the walk): the frame is not set up
 * yet, so the frame-pointer walk misses the direct caller; its return address
 * (gp_entry_caller(): at sp, in LR on arm64) replaces the function's own address. Kernels that add that caller themselves for a
 * uprobe on a "push rbp" (6.12+) already have it at [1]: then [0] is dropped instead.
 * Returns the entries, 0 if nothing could be read.
 */
static __always_inline __u32 entry_stack(struct pt_regs *ctx, __u64 *stack, __u32 bytes_max,
					 bool *unwound)
{
	long bytes = bpf_get_stack(ctx, stack, bytes_max, BPF_F_USER_STACK);
	__u32 n = bytes > 0 ? (__u32)bytes >> 3 : 0;
	__u64 ret;

	*unwound = n > 0;
	ret = gp_entry_caller(ctx);
	if (!ret)
		return n;
	if (n >= 2 && stack[1] == ret) {
		/* Every slot, not just the n used: a test of i against n per step forks the
		 * verifier's path, and 5.10's did not see the later tests were settled by the
		 * earlier ones (2^31 paths: "program too large"). Slots past n are not sent. */
		for (__u32 i = 0; i + 1 < GP_ENTRY_STACK_DEPTH; i++)
			stack[i] = stack[i + 1];
		return n - 1;
	}
	stack[0] = ret;
	return n ? n : 1; /* the caller is known even when the walk failed */
}

#endif
