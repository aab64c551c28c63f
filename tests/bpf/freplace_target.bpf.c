// SPDX-License-Identifier: GPL-2.0
// The program freplace_ext.bpf.c replaces a function of: get_constant() is global
// (a static function cannot be replaced) and takes only a scalar.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

__noinline int get_constant(int base)
{
	return base + 1;
}

/* A tc program: the verifier of 5.10 holds a replacement to the return values of
 * its target's type, and a raw_tp program's must be 0. */
SEC("tc")
int call_constant(struct __sk_buff *skb)
{
	return get_constant(41);
}
