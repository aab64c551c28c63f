// SPDX-License-Identifier: GPL-2.0
// Two auto-attached programs; the second names a tracepoint no kernel has, so an
// object attach() must fail and leave the first detached again.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

const volatile __u32 target_tgid = 0;
__u64 good_count = 0;

SEC("tp/syscalls/sys_enter_getppid")
int good(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) == target_tgid)
		__sync_fetch_and_add(&good_count, 1);
	return 0;
}

SEC("tp/skelgen_no_such_category/no_such_event")
int bad(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
