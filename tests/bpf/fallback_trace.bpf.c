// SPDX-License-Identifier: GPL-2.0
// A tracepoint, a kprobe and a uprobe counting calls of one process, the
// tracepoint also numbering an event per call into a ring buffer: nothing newer
// than 5.8, so that the oldest kernels run it (tests/kernel/test_fallbacks.py).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct event {
	__u32 seq;
	__u32 tgid;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 4096); /* small: a run of events wraps it */
	__type(value, struct event);
} events SEC(".maps");

const volatile __u32 target_tgid = 0;
__u64 tp_count = 0;
__u64 kprobe_count = 0;
__u64 uprobe_count = 0;
__u32 next_seq = 0;
__u32 dropped = 0;

static bool from_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("tp/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	struct event *e;

	if (!from_target())
		return 0;
	__sync_fetch_and_add(&tp_count, 1);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	e->seq = next_seq++;
	e->tgid = target_tgid;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("kprobe/__x64_sys_getpgid")
int BPF_KPROBE(on_getpgid)
{
	if (from_target())
		__sync_fetch_and_add(&kprobe_count, 1);
	return 0;
}

SEC("uprobe/libc.so.6:getsid")
int BPF_KPROBE(on_libc_getsid)
{
	if (from_target())
		__sync_fetch_and_add(&uprobe_count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
