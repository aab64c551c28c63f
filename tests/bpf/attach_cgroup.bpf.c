// SPDX-License-Identifier: GPL-2.0
// cgroup programs counting what a process of the test cgroup does.
#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

__u64 egress_packets = 0;
__u64 egress_bytes = 0;
__u64 sockets_created = 0;
__u64 connects = 0;
__u32 connect_port = 0;
__u64 getsockopts = 0;
__u64 sysctl_reads = 0;

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&egress_packets, 1);
	__sync_fetch_and_add(&egress_bytes, skb->len);
	return 1;
}

SEC("cgroup/sock_create")
int count_socket(struct bpf_sock *sk)
{
	__sync_fetch_and_add(&sockets_created, 1);
	return 1;
}

SEC("cgroup/connect4")
int count_connect(struct bpf_sock_addr *ctx)
{
	__sync_fetch_and_add(&connects, 1);
	connect_port = bpf_ntohs(ctx->user_port);
	return 1;
}

SEC("cgroup/getsockopt")
int count_getsockopt(struct bpf_sockopt *ctx)
{
	__sync_fetch_and_add(&getsockopts, 1);
	return 1;
}

SEC("cgroup/sysctl")
int count_sysctl(struct bpf_sysctl *ctx)
{
	if (!ctx->write)
		__sync_fetch_and_add(&sysctl_reads, 1);
	return 1;
}

/* For attach_type tests: a cgroup_skb program whose section names no direction. */
SEC("cgroup/skb")
int skb_any(struct __sk_buff *skb)
{
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
