// SPDX-License-Identifier: GPL-2.0
/*
 * skelgen/hist.bpf.h fed from Python: each test run counts one value into a
 * histogram of each slot convention, and into a short one whose last slot
 * catches everything beyond it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <skelgen/hist.bpf.h>

#define CAPPED_SLOTS 8

struct value_arg {
	__u64 value;
};

__u32 libbpf_tools[HIST_SLOTS_MAX];
__u32 bcc[HIST_SLOTS_MAX_BCC];
__u32 capped[CAPPED_SLOTS];

SEC("raw_tp")
int feed(struct value_arg *arg)
{
	__u64 v = arg->value;

	hist_add(libbpf_tools, HIST_SLOTS_MAX, v);
	hist_add_bcc(bcc, HIST_SLOTS_MAX_BCC, v);
	hist_add(capped, CAPPED_SLOTS, v);
	return hist_slot_bcc(v, HIST_SLOTS_MAX_BCC);
}

char LICENSE[] SEC("license") = "GPL";
