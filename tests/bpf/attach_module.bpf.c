// SPDX-License-Identifier: GPL-2.0
// fentry, fexit and a kprobe on a function of a kernel module, veth_xmit() of the
// veth driver (its BTF is the module's, not vmlinux's): each counts the frames of
// one length sent from one interface of a veth pair.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

const volatile __u32 frame_len = 0;
const volatile int ifindex = 0;
__u64 fentry_count = 0;
__u64 fexit_count = 0;
__u64 kprobe_count = 0;

SEC("fentry/veth_xmit")
int BPF_PROG(on_veth_xmit, struct sk_buff *skb, struct net_device *dev)
{
	if (skb->len == frame_len && dev->ifindex == ifindex)
		__sync_fetch_and_add(&fentry_count, 1);
	return 0;
}

SEC("fexit/veth:veth_xmit")
int BPF_PROG(after_veth_xmit, struct sk_buff *skb, struct net_device *dev, int ret)
{
	if (ret == 0 /* NETDEV_TX_OK */ && dev->ifindex == ifindex)
		__sync_fetch_and_add(&fexit_count, 1);
	return 0;
}

SEC("kprobe/veth_xmit")
int BPF_KPROBE(kprobe_veth_xmit, struct sk_buff *skb, struct net_device *dev)
{
	if (BPF_CORE_READ(skb, len) == frame_len && BPF_CORE_READ(dev, ifindex) == ifindex)
		__sync_fetch_and_add(&kprobe_count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
