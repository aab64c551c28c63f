// SPDX-License-Identifier: GPL-2.0
// Outgoing TCP connections (bcc's tcpconnect) from the sock:inet_sock_set_state
// tracepoint, where a socket enters SYN_SENT in the connecting process: no
// kprobe needed.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define AF_INET 2
#define TCP_SYN_SENT 2

struct event {
	int pid;
	__u16 family;
	__u16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
	__type(value, struct event);
} events SEC(".maps");

SEC("tp/sock/inet_sock_set_state")
int set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct event *e;

	if (ctx->protocol != IPPROTO_TCP || ctx->newstate != TCP_SYN_SENT)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->family = ctx->family;
	e->dport = ctx->dport;
	/* the context allows loads at constant offsets only: copy by helper */
	if (ctx->family == AF_INET) {
		bpf_probe_read_kernel(e->saddr, 4, ctx->saddr);
		bpf_probe_read_kernel(e->daddr, 4, ctx->daddr);
	} else {
		bpf_probe_read_kernel(e->saddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(e->daddr, 16, ctx->daddr_v6);
	}
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
