// SPDX-License-Identifier: GPL-2.0
// A netfilter program (kernel 6.4+) that counts the packets of its hook.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 nf_packets = 0;

SEC("netfilter")
int count_local_in(void *ctx)
{
	__sync_fetch_and_add(&nf_packets, 1);
	return 1; /* NF_ACCEPT */
}

char LICENSE[] SEC("license") = "GPL";
