// SPDX-License-Identifier: GPL-2.0
/*
 * A tracing tool in the style of libbpf-tools' tcpstates: TCP state changes
 * with ports, addresses and the time spent in the previous state, sent through
 * a ring buffer.
 *
 * The tracepoint's own record is read through CO-RE (its layout changes across
 * kernels); the socket's network namespace cookie and the sending task go
 * through kernel structures, one of them behind a flavor whose field no kernel
 * has, guarded by bpf_core_field_exists().
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define TASK_COMM_LEN 16

char LICENSE[] SEC("license") = "GPL";

const volatile short target_family = 0;
const volatile __u16 target_port = 0; /* host order; 0: every port */

struct sock_common___gone {
	int skc_field_that_never_was;
} __attribute__((preserve_access_index));

struct state_event {
	__u64 skaddr;
	__u64 ts_us;
	__u64 delta_us;
	__u32 pid;
	__s32 oldstate;
	__s32 newstate;
	__u16 family;
	__u16 sport;
	__u16 dport;
	__u16 bound_port; /* skc_num read through the socket */
	__u8 saddr[16];
	__u8 daddr[16];
	char task[TASK_COMM_LEN];
	__u32 never;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, __u64);
} timestamps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

__u64 changes;

SEC("tracepoint/sock/inet_sock_set_state")
int handle_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct sock *sk = (struct sock *)ctx->skaddr;
	__u16 family = ctx->family;
	__u16 sport = ctx->sport;
	__u16 dport = ctx->dport;
	struct state_event *event;
	__u64 *tsp, delta_us, ts;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (target_family && target_family != family)
		return 0;
	if (target_port && target_port != sport && target_port != dport)
		return 0;

	tsp = bpf_map_lookup_elem(&timestamps, &sk);
	ts = bpf_ktime_get_ns();
	delta_us = tsp ? (ts - *tsp) / 1000 : 0;

	event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
	if (!event)
		return 0;
	__builtin_memset(event, 0, sizeof(*event));
	event->skaddr = (__u64)sk;
	event->ts_us = ts / 1000;
	event->delta_us = delta_us;
	event->pid = bpf_get_current_pid_tgid() >> 32;
	event->oldstate = ctx->oldstate;
	event->newstate = ctx->newstate;
	event->family = family;
	event->sport = sport;
	event->dport = dport;
	event->bound_port = BPF_CORE_READ(sk, __sk_common.skc_num);
	bpf_get_current_comm(&event->task, sizeof(event->task));
	if (bpf_core_field_exists(struct sock_common___gone, skc_field_that_never_was))
		event->never = BPF_CORE_READ((struct sock_common___gone *)sk,
					     skc_field_that_never_was);
	if (family == AF_INET) {
		bpf_probe_read_kernel(&event->saddr, 4, ctx->saddr);
		bpf_probe_read_kernel(&event->daddr, 4, ctx->daddr);
	} else {
		bpf_probe_read_kernel(&event->saddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(&event->daddr, 16, ctx->daddr_v6);
	}
	bpf_ringbuf_submit(event, 0);
	__sync_fetch_and_add(&changes, 1);

	if (ctx->newstate == TCP_CLOSE)
		bpf_map_delete_elem(&timestamps, &sk);
	else
		bpf_map_update_elem(&timestamps, &sk, &ts, BPF_ANY);
	return 0;
}

/*
 * The variant older tools use where the tracepoint is missing: an fentry on
 * tcp_set_state.  This kernel refuses fentry programs (EPERM), libbpf too.
 */
SEC("fentry/tcp_set_state")
int BPF_PROG(fentry_tcp_set_state, struct sock *sk, int state)
{
	if (BPF_CORE_READ(sk, __sk_common.skc_num) == target_port)
		__sync_fetch_and_add(&changes, 1);
	return 0;
}
