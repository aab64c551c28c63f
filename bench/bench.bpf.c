// SPDX-License-Identifier: GPL-2.0
/* The ring buffer producer of the benchmark: test_run(ctx = {count}) emits `count`
 * numbered 32-byte events.  Loaded by the Python runtime and by the C harness
 * (libbpf) alike. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct event {
	__u64 seq;
	__u64 ts;
	__u32 pid;
	__u32 cpu;
	__u64 value;
};

struct produce_args {
	__u32 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 32 << 20);
} events SEC(".maps");

__u64 next_seq;
__u64 dropped;

static long emit_one(__u32 i, void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		dropped++;
		return 0;
	}
	e->seq = next_seq++;
	e->ts = 0;
	e->pid = 42;
	e->cpu = 0;
	e->value = e->seq * 3;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("syscall") int produce(struct produce_args *args)
{
	bpf_loop(args->count, emit_one, NULL, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
