// SPDX-License-Identifier: GPL-2.0
/* The start-up benchmark's small tool, without CO-RE: one tracepoint, .rodata,
 * .data and .bss, a hash map.  Loaded as a libbpf C skeleton, a skelgen skeleton
 * and (as bcc_small.py's C text) by bcc. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

const volatile __u32 target_tgid = 0; /* 0: every process */
__u64 calls = 1;
__u64 seen;

SEC("tracepoint/syscalls/sys_enter_getpid")
int on_getpid(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 one = 1, *count;

	if (target_tgid && tgid != target_tgid)
		return 0;
	calls++;
	seen = tgid;
	count = bpf_map_lookup_elem(&counts, &tgid);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&counts, &tgid, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
