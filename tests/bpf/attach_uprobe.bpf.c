// SPDX-License-Identifier: GPL-2.0
// uprobes: a function of a test binary (attached by hand), and libc's getppid()
// (attached from the section name, the library found by name).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

const volatile __u32 target_tgid = 0;

__u64 add_calls = 0;
__s64 add_a = 0;
__s64 add_b = 0;
__u32 add_tgid = 0;
__u64 add_ret_calls = 0;
__s64 add_ret = 0;
__u64 libc_calls = 0;
__u64 libc_ret_calls = 0;
__s64 libc_ret = 0;

SEC("uprobe")
int BPF_KPROBE(on_add, int a, int b)
{
	__sync_fetch_and_add(&add_calls, 1);
	add_a = a;
	add_b = b;
	add_tgid = bpf_get_current_pid_tgid() >> 32;
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(on_add_ret, int ret)
{
	__sync_fetch_and_add(&add_ret_calls, 1);
	add_ret = ret;
	return 0;
}

SEC("uprobe/libc.so.6:getppid")
int BPF_KPROBE(on_libc_getppid)
{
	if ((bpf_get_current_pid_tgid() >> 32) == target_tgid)
		__sync_fetch_and_add(&libc_calls, 1);
	return 0;
}

SEC("uretprobe/libc.so.6:getppid")
int BPF_KRETPROBE(on_libc_getppid_ret, int ret)
{
	if ((bpf_get_current_pid_tgid() >> 32) == target_tgid) {
		__sync_fetch_and_add(&libc_ret_calls, 1);
		libc_ret = ret;
	}
	return 0;
}

__u64 multi_calls = 0;
__u64 multi_ret_calls = 0;
__s64 multi_ret_sum = 0;

SEC("uprobe.multi")
int on_many(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&multi_calls, 1);
	return 0;
}

SEC("uretprobe.multi")
int on_many_ret(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&multi_ret_calls, 1);
	__sync_fetch_and_add(&multi_ret_sum, (int)PT_REGS_RC(ctx));
	return 0;
}

SEC("uprobe.multi/libc.so.6:getppi?")
int on_libc_multi(struct pt_regs *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) == target_tgid)
		__sync_fetch_and_add(&multi_calls, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
