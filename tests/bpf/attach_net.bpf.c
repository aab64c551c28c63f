// SPDX-License-Identifier: GPL-2.0
// Networking attach kinds, each observable from user space: XDP drops and counts UDP
// datagrams to one port, tcx counts and marks them, a socket filter keeps only
// datagrams whose payload starts with "PASS" and records the mark it saw, sk_lookup
// counts what it sees, sk_msg counts the messages of sockets in a sockmap.
// (netfilter programs, 6.4+, are in attach_netfilter.bpf.c: kernels without them
// still load this object.)
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define MARK 0x5e1f

__u16 port = 0;  /* host order, set by the test after load */

__u64 xdp_dropped = 0;
__u64 xdp_passed = 0;
__u64 tcx_ingress = 0;
__u64 tcx_egress = 0;
__u64 filter_kept = 0;
__u64 filter_dropped = 0;
__u32 seen_mark = 0;
__u64 lookups = 0;

/* Whether the frame is an IPv4/UDP datagram to `port`. */
static __always_inline int udp_to_port(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	if (ip->protocol != IPPROTO_UDP || ip->ihl != 5)
		return 0;
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > data_end)
		return 0;
	return udp->dest == bpf_htons(port);
}

SEC("xdp")
int xdp_drop_port(struct xdp_md *ctx)
{
	if (!udp_to_port((void *)(long)ctx->data, (void *)(long)ctx->data_end))
		return XDP_PASS;
	__sync_fetch_and_add(&xdp_dropped, 1);
	return XDP_DROP;
}

SEC("xdp")
int xdp_count_port(struct xdp_md *ctx)
{
	if (udp_to_port((void *)(long)ctx->data, (void *)(long)ctx->data_end))
		__sync_fetch_and_add(&xdp_passed, 1);
	return XDP_PASS;
}

SEC("tcx/ingress")
int tcx_mark(struct __sk_buff *skb)
{
	if (udp_to_port((void *)(long)skb->data, (void *)(long)skb->data_end)) {
		__sync_fetch_and_add(&tcx_ingress, 1);
		skb->mark = MARK;
	}
	return TC_ACT_OK;
}

SEC("tcx/egress")
int tcx_count_egress(struct __sk_buff *skb)
{
	if (udp_to_port((void *)(long)skb->data, (void *)(long)skb->data_end))
		__sync_fetch_and_add(&tcx_egress, 1);
	return TC_ACT_OK;
}

/* On a UDP socket the filter sees the datagram from its UDP header on. */
SEC("socket")
int keep_pass(struct __sk_buff *skb)
{
	char word[4];

	seen_mark = skb->mark;
	if (bpf_skb_load_bytes(skb, sizeof(struct udphdr), word, sizeof(word)) == 0 &&
	    word[0] == 'P' && word[1] == 'A' && word[2] == 'S' && word[3] == 'S') {
		__sync_fetch_and_add(&filter_kept, 1);
		return skb->len;
	}
	__sync_fetch_and_add(&filter_dropped, 1);
	return 0;
}

SEC("sk_lookup")
int count_lookups(struct bpf_sk_lookup *ctx)
{
	if (ctx->protocol == IPPROTO_UDP && ctx->local_port == port)
		__sync_fetch_and_add(&lookups, 1);
	return SK_PASS;
}

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} socks SEC(".maps");

__u64 msgs = 0;
__u64 msg_bytes = 0;

/* Runs on sendmsg() of the sockets in `socks`. */
SEC("sk_msg")
int count_msgs(struct sk_msg_md *msg)
{
	__sync_fetch_and_add(&msgs, 1);
	__sync_fetch_and_add(&msg_bytes, msg->size);
	return SK_PASS;
}

/* Only a netkit device takes it. */
SEC("netkit/primary")
int netkit_pass(struct __sk_buff *skb)
{
	return -1; /* NETKIT_NEXT */
}

char LICENSE[] SEC("license") = "GPL";
