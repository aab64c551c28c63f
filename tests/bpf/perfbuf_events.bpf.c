// SPDX-License-Identifier: GPL-2.0
/* A perf event array fed from a tracepoint: each getppid() of the test process emits
 * emit_count (at most 1024) numbered events with bpf_perf_event_output() on the
 * current CPU. */
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
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

/* Keeps struct event in BTF, for skelgen --event-type events=event. */
const struct event *unused_event __attribute__((unused));

int target_pid;
__u32 emit_count;
__u64 next_seq;
__u64 failed; /* outputs the kernel refused */

SEC("tp/syscalls/sys_enter_getppid") int on_getppid(void *ctx)
{
	struct event e = {};

	if ((bpf_get_current_pid_tgid() >> 32) != target_pid)
		return 0;
	for (int i = 0; i < 1024; i++) {
		if (i >= emit_count)
			break;
		e.seq = next_seq++;
		e.value = e.seq * 3;
		e.cpu = bpf_get_smp_processor_id();
		e.tail = ~e.seq;
		if (bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e)))
			failed++;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
