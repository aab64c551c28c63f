// SPDX-License-Identifier: GPL-2.0
// A TCP congestion-control algorithm in BPF, registered twice: through a plain
// .struct_ops map (registered by a map update) and a .struct_ops.link one (a BPF
// link).  Each callback counts its calls in .bss so a test sees it run.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

__u64 init_calls;
__u64 ssthresh_calls;
__u64 cong_avoid_calls;
__u64 undo_calls;
__u64 unused_calls;

static struct tcp_sock *tcp_sk(const struct sock *sk)
{
	return (struct tcp_sock *)sk;
}

SEC("struct_ops")
void BPF_PROG(skt_init, struct sock *sk)
{
	__sync_fetch_and_add(&init_calls, 1);
}

SEC("struct_ops")
__u32 BPF_PROG(skt_ssthresh, struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	__sync_fetch_and_add(&ssthresh_calls, 1);
	return tp->snd_cwnd > 4 ? tp->snd_cwnd >> 1 : 2;
}

SEC("struct_ops")
void BPF_PROG(skt_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	__sync_fetch_and_add(&cong_avoid_calls, 1);
}

SEC("struct_ops")
__u32 BPF_PROG(skt_undo_cwnd, struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	__sync_fetch_and_add(&undo_calls, 1);
	return tp->snd_cwnd;
}

// In a struct_ops section but in no map: libbpf does not load it.
SEC("struct_ops")
void BPF_PROG(skt_unused, struct sock *sk)
{
	__sync_fetch_and_add(&unused_calls, 1);
}

SEC(".struct_ops")
struct tcp_congestion_ops skelgen_ca = {
	.init = (void *)skt_init,
	.ssthresh = (void *)skt_ssthresh,
	.cong_avoid = (void *)skt_cong_avoid,
	.undo_cwnd = (void *)skt_undo_cwnd,
	.name = "skelgen_ca",
};

SEC(".struct_ops.link")
struct tcp_congestion_ops skelgen_ca_link = {
	.init = (void *)skt_init,
	.ssthresh = (void *)skt_ssthresh,
	.cong_avoid = (void *)skt_cong_avoid,
	.undo_cwnd = (void *)skt_undo_cwnd,
	.name = "skelgen_ca_link",
};
