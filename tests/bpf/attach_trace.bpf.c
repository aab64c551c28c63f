// SPDX-License-Identifier: GPL-2.0
// Tracing attach kinds that count the test's own getppid() calls.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

const volatile __u32 target_tgid = 0;
const volatile __s64 getppid_nr = -1;

__u64 tp_count = 0;
__u64 raw_count = 0;
__u64 btf_count = 0;
__u64 rollback_count = 0;

static __always_inline bool from_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("tp/syscalls/sys_enter_getppid")
int tp_getppid(void *ctx)
{
	if (from_target())
		__sync_fetch_and_add(&tp_count, 1);
	return 0;
}

SEC("raw_tp/sys_enter")
int raw_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if (from_target() && (__s64)ctx->args[1] == getppid_nr)
		__sync_fetch_and_add(&raw_count, 1);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(btf_sys_enter, struct pt_regs *regs, long id)
{
	if (from_target() && id == getppid_nr)
		__sync_fetch_and_add(&btf_count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
