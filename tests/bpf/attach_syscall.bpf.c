// SPDX-License-Identifier: GPL-2.0
// A syscall program (kernel 5.14+) for test_run: its context is the caller's struct.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct sum_args {
	int a;
	int b;
	int sum;
};

/* test_run: a syscall program writes its result into its context. */
SEC("syscall")
int add_args(struct sum_args *args)
{
	args->sum = args->a + args->b;
	return args->a * args->b;
}

char LICENSE[] SEC("license") = "GPL";
