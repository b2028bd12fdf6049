/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The architecture layer: every register a BPF program of libgoprof reads, and what it
 * means, for x86-64 (__TARGET_ARCH_x86) and arm64 (__TARGET_ARCH_arm64). No other BPF
 * source names a register.
 *
 *                              amd64                       arm64
 *   Go ABIInternal args/results RAX RBX RCX RDI RSI ...     R0 R1 R2 R3 R4 ...
 *   current g (Go code)         R14                         R28
 *   current g (any instruction) TLS at fsbase - 8           R28 (checked against g.m)
 *   caller at function entry    [SP]                        LR (R30)
 *   frame pointer               RBP                         R29
 *   user mode (perf sample)     the IP's top bit clear      pstate: EL0
 *   syscall number, arg 0, 1    orig_ax, rdi, rsi           syscallno, orig_x0, x1
 *
 * Uprobe programs get the kernel's struct pt_regs; perf-event programs get
 * bpf_user_pt_regs_t (struct pt_regs on x86-64, struct user_pt_regs on arm64, the head of
 * arm64's pt_regs). Included by shared.bpf.h once current_user_regs() is defined.
 */
#ifndef GOPROF_ARCH_BPF_H
#define GOPROF_ARCH_BPF_H

#if defined(__TARGET_ARCH_x86)

/* Go's register ABI (1.17+): integer arguments and results, in order. */
#define GO_ARG1(ctx) ((ctx)->ax)
#define GO_ARG2(ctx) ((ctx)->bx)
#define GO_ARG3(ctx) ((ctx)->cx)
#define GO_ARG4(ctx) ((ctx)->di)
#define GO_RET1(ctx) GO_ARG1(ctx)
#define GO_RET2(ctx) GO_ARG2(ctx)
/* The current g in Go (ABIInternal) code. */
#define GO_G(ctx) ((ctx)->r14)

/* A perf-event sample (struct bpf_perf_event_data *): in user mode, its frame pointer. User
 * mode is told by the address, not by pt_regs.cs: cs is 8 bytes before the FRED layout
 * and 2 after, so a read of it relocates on one of them only. */
#define GP_SAMPLE_USER_MODE(ctx) user_ip((ctx)->regs.ip)
#define GP_SAMPLE_FP(ctx) ((ctx)->regs.bp)

/* Where a task's saved user frame pointer is in its struct pt_regs. */
#define GP_REGS_FP_PTR(regs) (&(regs)->bp)

/* A syscall in flight, from the task's user registers (struct pt_regs *, kernel memory). */
#define GP_SYSCALL_NR(regs) BPF_CORE_READ(regs, orig_ax)
#define GP_SYSCALL_ARG0(regs) BPF_CORE_READ(regs, di)
#define GP_SYSCALL_ARG1(regs) BPF_CORE_READ(regs, si)
/* The same from a trusted pointer (bpf_task_pt_regs()): plain CO-RE loads, no helper. */
#define GP_SYSCALL_NR_DIRECT(regs) ((regs)->orig_ax)
#define GP_SYSCALL_ARG1_DIRECT(regs) ((regs)->si)
#define GP_NR_read 0
#define GP_NR_write 1
#define GP_NR_sendto 44
#define GP_NR_recvfrom 45

/* The caller's return address at a function's first instruction: at [SP]. */
static __always_inline __u64 gp_entry_caller(struct pt_regs *ctx)
{
	__u64 ret = 0;

	if (bpf_probe_read_user(&ret, sizeof(ret), (void *)ctx->sp))
		return 0;
	return ret;
}

/*
 * The current thread's g, at any instruction: TLS at fsbase - 8 holds it even where R14
 * does not (C code, assembly, signal handlers); checked with gdb on static and cgo-linked
 * binaries. 0 if unreadable.
 */
static __always_inline __u64 gp_current_g(void)
{
	/* Not bpf_get_current_task_btf(): that helper came in 5.11. */
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 fsbase = BPF_CORE_READ(task, thread.fsbase), g = 0;

	if (!fsbase || bpf_probe_read_user(&g, sizeof(g), (void *)(fsbase - 8)))
		return 0;
	return g;
}
/* Whether g from gp_current_g() needs the check of gp_go_thread_checked(). */
#define GP_G_NEEDS_CHECK 0

#elif defined(__TARGET_ARCH_arm64)

#define GO_ARG1(ctx) ((ctx)->regs[0])
#define GO_ARG2(ctx) ((ctx)->regs[1])
#define GO_ARG3(ctx) ((ctx)->regs[2])
#define GO_ARG4(ctx) ((ctx)->regs[3])
#define GO_RET1(ctx) GO_ARG1(ctx)
#define GO_RET2(ctx) GO_ARG2(ctx)
#define GO_G(ctx) ((ctx)->regs[28])

/* PSR_MODE_MASK 0xf; EL0t is 0 (an AArch32 task's USR mode, 0x10, has the same low bits). */
#define GP_SAMPLE_USER_MODE(ctx) (((ctx)->regs.pstate & 0xf) == 0)
#define GP_SAMPLE_FP(ctx) ((ctx)->regs.regs[29])

#define GP_REGS_FP_PTR(regs) (&(regs)->regs[29])

/* orig_x0 keeps argument 0: x0 holds the result once the syscall returned. */
#define GP_SYSCALL_NR(regs) BPF_CORE_READ(regs, syscallno)
#define GP_SYSCALL_ARG0(regs) BPF_CORE_READ(regs, orig_x0)
#define GP_SYSCALL_ARG1(regs) BPF_CORE_READ(regs, regs[1])
#define GP_SYSCALL_NR_DIRECT(regs) ((regs)->syscallno)
#define GP_SYSCALL_ARG1_DIRECT(regs) ((regs)->regs[1])
#define GP_NR_read 63
#define GP_NR_write 64
#define GP_NR_sendto 206
#define GP_NR_recvfrom 207

/* At a function's first instruction the return address is still in the link register. */
static __always_inline __u64 gp_entry_caller(struct pt_regs *ctx)
{
	return ctx->regs[30];
}

/*
 * The current thread's g: R28 of the task's user registers. Go code keeps g there at
 * every instruction; TLS holds g only in cgo binaries, at an offset the BPF side does not
 * know, and C code (cgo, the vDSO) may use R28 for itself: so the caller checks the value
 * against g.m (GP_G_NEEDS_CHECK). 0 if unreadable.
 */
static __always_inline __u64 gp_current_g(void)
{
	struct pt_regs *regs = current_user_regs();
	__u64 g = 0;

	if (!regs || bpf_probe_read_kernel(&g, sizeof(g), &regs->regs[28]))
		return 0;
	return g;
}
#define GP_G_NEEDS_CHECK 1

#else
#error "libgoprof's BPF programs support __TARGET_ARCH_x86 and __TARGET_ARCH_arm64"
#endif

#endif
