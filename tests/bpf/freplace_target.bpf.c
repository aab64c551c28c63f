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

SEC("raw_tp")
int call_constant(void *ctx)
{
	return get_constant(41);
}
