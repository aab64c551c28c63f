// SPDX-License-Identifier: GPL-2.0
// A sampling profiler: a perf_event program runs on every CPU N times a second
// and counts the samples per process, in user and kernel mode
// (libbpf-bootstrap's profile, without stacks).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct samples {
	char comm[16];
	__u64 user;
	__u64 kernel;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32); /* tgid */
	__type(value, struct samples);
} counts SEC(".maps");

SEC("perf_event")
int sample(struct bpf_perf_event_data *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct samples *s, zero = {};
	__u64 kernel_ip;

	if (!tgid) /* the idle task */
		return 0;
	s = bpf_map_lookup_elem(&counts, &tgid);
	if (!s) {
		bpf_get_current_comm(zero.comm, sizeof(zero.comm));
		bpf_map_update_elem(&counts, &tgid, &zero, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&counts, &tgid);
		if (!s)
			return 0;
	}
	/* A sample taken in user mode has no kernel stack. */
	if (bpf_get_stack(ctx, &kernel_ip, sizeof(kernel_ip), 0) > 0)
		__sync_fetch_and_add(&s->kernel, 1);
	else
		__sync_fetch_and_add(&s->user, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
