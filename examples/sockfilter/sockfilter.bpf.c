// SPDX-License-Identifier: GPL-2.0
// A socket filter on a raw packet socket: every IPv4 packet the socket sees
// becomes an event (addresses, protocol, ports) and none reaches the socket
// itself (libbpf-bootstrap's sockfilter).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define PACKET_OUTGOING 4

struct event {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 protocol;
	__u32 length;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
	__type(value, struct event);
} events SEC(".maps");

SEC("socket")
int packet_info(struct __sk_buff *skb)
{
	struct iphdr ip;
	struct event *e;
	__u16 ports[2] = {};

	/* A packet socket sees what leaves and what arrives: keep arrivals. */
	if (skb->pkt_type == PACKET_OUTGOING || skb->protocol != bpf_htons(ETH_P_IP))
		return 0;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0)
		return 0;
	if (ip.protocol == IPPROTO_TCP || ip.protocol == IPPROTO_UDP)
		bpf_skb_load_bytes(skb, ETH_HLEN + ip.ihl * 4, ports, sizeof(ports));
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->saddr = ip.saddr;
	e->daddr = ip.daddr;
	e->protocol = ip.protocol;
	e->sport = ports[0];
	e->dport = ports[1];
	e->length = skb->len;
	bpf_ringbuf_submit(e, 0);
	return 0; /* 0 bytes of the packet reach the socket */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
