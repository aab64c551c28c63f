// SPDX-License-Identifier: GPL-2.0
/*
 * A tool in the style of libbpf-tools' sigsnoop, built by `skelgen compile`
 * (vmlinux.h written by skelgen, no bpftool): kill() calls of one process.
 *
 * The tracepoint counts kill(pid, 0) calls, keeps the syscall number and the
 * target pid from the tracepoint's context (a vmlinux.h type) and the caller's
 * parent from task_struct through BPF_CORE_READ.  The raw tracepoint counts the
 * process's syscalls by number and reads their first argument from pt_regs with
 * the bpf_tracing.h macros, which only compile for a known __TARGET_ARCH.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

const volatile pid_t targ_tgid = 0;

__u64 kills = 0;
long kill_nr = -1;
long kill_target = 0;
pid_t parent_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, long);  /* syscall number */
	__type(value, long); /* first argument of the last call */
} first_args SEC(".maps");

static __always_inline bool traced(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == targ_tgid;
}

SEC("tracepoint/syscalls/sys_enter_kill")
int on_kill(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task;

	if (!traced() || ctx->args[1] != 0)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
	kill_nr = ctx->id;
	kill_target = ctx->args[0];
	__sync_fetch_and_add(&kills, 1);
	return 0;
}

SEC("raw_tp/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long id)
{
	long first;

	if (!traced())
		return 0;
	first = PT_REGS_PARM1_CORE_SYSCALL(regs);
	bpf_map_update_elem(&first_args, &id, &first, BPF_ANY);
	return 0;
}
