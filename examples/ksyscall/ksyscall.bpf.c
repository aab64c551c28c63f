// SPDX-License-Identifier: GPL-2.0
// Signals being sent: ksyscall probes on kill and tgkill, which read the
// syscall's arguments the same way on every architecture and kernel
// (libbpf-bootstrap's ksyscall).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

struct event {
	int pid;
	int target;
	int sig;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
	__type(value, struct event);
} events SEC(".maps");

static int report(int target, int sig)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->target = target;
	e->sig = sig;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("ksyscall/kill")
int BPF_KSYSCALL(kill_entry, pid_t pid, int sig)
{
	return report(pid, sig);
}

SEC("ksyscall/tgkill")
int BPF_KSYSCALL(tgkill_entry, pid_t tgid, pid_t tid, int sig)
{
	return report(tid, sig);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
