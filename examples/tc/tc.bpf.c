// SPDX-License-Identifier: GPL-2.0
// A tc (tcx) ingress program: counts packets per IP protocol and drops UDP
// datagrams to one port (libbpf-bootstrap's tc, with an effect to see).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define ETH_P_IP 0x0800

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u8);    /* IPPROTO_* */
	__type(value, __u64); /* packets */
} packets SEC(".maps");

const volatile __u16 blocked_udp_port = 0;
__u64 dropped;

SEC("tc/ingress")
int tc_ingress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp;
	__u64 one = 1, *count;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	count = bpf_map_lookup_elem(&packets, &ip->protocol);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&packets, &ip->protocol, &one, BPF_NOEXIST);
	if (ip->protocol != IPPROTO_UDP || ip->ihl != 5)
		return TC_ACT_OK;
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > data_end || udp->dest != bpf_htons(blocked_udp_port))
		return TC_ACT_OK;
	__sync_fetch_and_add(&dropped, 1);
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
