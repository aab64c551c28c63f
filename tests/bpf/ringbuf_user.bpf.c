// SPDX-License-Identifier: GPL-2.0
/* A user ring buffer (6.1+) that a SEC("syscall") program run with test_run() drains
 * into counters, checking the events come in sequence. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct event {
	__u64 seq;
	__u64 value;
	__u32 cpu;
	__u32 flags;
	__u64 tail;
};

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 16 * 1024);
	__type(value, struct event);
} from_user SEC(".maps");

__u64 drained;
__u64 drained_sum;
__u64 expected_seq;
__u64 out_of_order;
__u64 short_samples;
long drain_result;

static long on_sample(struct bpf_dynptr *dynptr, void *ctx)
{
	struct event e;

	if (bpf_dynptr_read(&e, sizeof(e), dynptr, 0, 0)) {
		short_samples++;
		return 0;
	}
	if (e.seq != expected_seq)
		out_of_order++;
	expected_seq = e.seq + 1;
	drained_sum += e.value;
	drained++;
	return 0;
}

SEC("syscall") int drain_user(void *ctx)
{
	drain_result = bpf_user_ringbuf_drain(&from_user, on_sample, NULL, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
