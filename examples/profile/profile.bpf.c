// SPDX-License-Identifier: GPL-2.0
// A sampling profiler (libbpf-bootstrap's profile; bcc's profile): a perf_event
// program runs on every CPU N times a second and counts the samples per
// process and stack, kernel and user; the stacks go into a stack trace map.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct sample_key {
	__u32 pid;
	int kernel_stack; /* stack ids; negative: none (user mode, kernel thread) */
	int user_stack;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct sample_key);
	__type(value, __u64); /* samples */
} counts SEC(".maps");

SEC("perf_event")
int sample(struct bpf_perf_event_data *ctx)
{
	struct sample_key key = {.pid = bpf_get_current_pid_tgid() >> 32};
	__u64 one = 1, *count;

	if (!key.pid) /* the idle task */
		return 0;
	key.kernel_stack = bpf_get_stackid(ctx, &stacks, 0);
	key.user_stack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	count = bpf_map_lookup_elem(&counts, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
