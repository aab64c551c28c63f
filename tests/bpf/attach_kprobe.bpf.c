// SPDX-License-Identifier: GPL-2.0
// kprobes, kretprobes and ksyscall probes on getpgid(), filtered to the test process.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

const volatile __u32 target_tgid = 0;
__u64 kprobe_count = 0;
__u64 kretprobe_count = 0;
__u64 ksyscall_count = 0;
__s64 kretprobe_ret = 0;

static __always_inline bool from_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("kprobe/__x64_sys_getpgid")
int BPF_KPROBE(on_getpgid)
{
	if (from_target())
		__sync_fetch_and_add(&kprobe_count, 1);
	return 0;
}

SEC("kretprobe/__x64_sys_getpgid")
int BPF_KRETPROBE(on_getpgid_ret, long ret)
{
	if (from_target()) {
		__sync_fetch_and_add(&kretprobe_count, 1);
		kretprobe_ret = ret;
	}
	return 0;
}

/* BPF_KPROBE, not BPF_KSYSCALL: getpgid() has no arguments to read, and the object
 * then needs no LINUX_HAS_SYSCALL_WRAPPER extern. */
SEC("ksyscall/getpgid")
int BPF_KPROBE(on_sys_getpgid)
{
	if (from_target())
		__sync_fetch_and_add(&ksyscall_count, 1);
	return 0;
}

__u64 multi_count = 0;

SEC("kprobe.multi/__x64_sys_getpgi?")
int on_getpgid_multi(struct pt_regs *ctx)
{
	if (from_target())
		__sync_fetch_and_add(&multi_count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
