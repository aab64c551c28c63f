// SPDX-License-Identifier: GPL-2.0
// The minimal skelgen example: count getpid() calls of one process and send an
// event for each through a ring buffer.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct event {
	int pid;
	char comm[16];
	unsigned long long ts;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__type(value, struct event);
} events SEC(".maps");

/* Set by the application before load; the verifier sees it as a constant. */
const volatile int target_pid = 0;

/* Written by the program, read live by the application. */
int counter = 0;

/* Initialised data, readable and writable from both sides. */
unsigned long long history[4] = {1, 2, 3, 4};

SEC("tp/syscalls/sys_enter_getpid")
int handle_getpid(void *ctx)
{
	int pid = bpf_get_current_pid_tgid() >> 32;
	struct event *e;

	if (target_pid && pid != target_pid)
		return 0;
	__sync_fetch_and_add(&counter, 1);
	history[counter & 3] = bpf_ktime_get_ns();

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = pid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->ts = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
