// SPDX-License-Identifier: GPL-2.0
// Stack traces to symbolize and a bpf_printk line to read back: a user stack taken
// when a test binary's function returns, a kernel stack taken at syscall entry,
// and a printk with a cookie of the test's choosing.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

const volatile __u32 target_tgid = 0;
const volatile __u64 cookie = 0;

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
} stacks SEC(".maps");

__s64 user_stack_id = -1;
__s64 kernel_stack_id = -1;

static bool is_target(void)
{
	return bpf_get_current_pid_tgid() >> 32 == target_tgid;
}

SEC("uretprobe")
int BPF_KRETPROBE(on_middle_return)
{
	if (is_target())
		user_stack_id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	return 0;
}

/* A raw tracepoint: its stack is the kernel's on every kernel (a syscall
 * tracepoint's is empty before 6.x: bpf_get_stackid() answers -EFAULT). */
SEC("raw_tp/sys_enter")
int on_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if (is_target() && ctx->args[1] == 110 /* x86-64 __NR_getppid */)
		kernel_stack_id = bpf_get_stackid(ctx, &stacks, 0);
	return 0;
}

SEC("tp/syscalls/sys_enter_getppid")
int printk_getppid(void *ctx)
{
	if (is_target())
		bpf_printk("skelgen-printk tgid=%u cookie=%llu", target_tgid, cookie);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
