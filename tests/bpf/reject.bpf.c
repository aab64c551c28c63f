// SPDX-License-Identifier: GPL-2.0
// A program the verifier must reject: it dereferences a random scalar.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("raw_tp")
int bad_deref(void *ctx)
{
	int *p = (int *)(long)bpf_get_prandom_u32();

	return *p;
}

char LICENSE[] SEC("license") = "GPL";
