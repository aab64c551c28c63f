// SPDX-License-Identifier: GPL-2.0
// Replaces get_constant() of freplace_target.bpf.c once attached: call_constant()
// then returns 141 instead of 42, and replaced_calls counts the calls.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

__u64 replaced_calls;

SEC("freplace/get_constant")
int new_get_constant(int base)
{
	__sync_fetch_and_add(&replaced_calls, 1);
	return base + 100;
}
