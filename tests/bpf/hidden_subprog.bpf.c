// SPDX-License-Identifier: GPL-2.0
// Global subprograms that write through a pointer argument without a NULL check.
// The verifier checks a global function on its own, where the pointer may be NULL
// ("invalid mem access 'mem_or_null'"), and a static one with its caller's context.
// libbpf marks hidden global functions (as usdt.bpf.h declares its helpers) static
// in the BTF it loads, so with_hidden loads; with_global never does.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

__noinline __hidden int fill_hidden(long *res)
{
	*res = 42;
	return 0;
}

__noinline __weak __hidden int fill_weak_hidden(long *res)
{
	*res = 1000;
	return 0;
}

__noinline int fill_global(long *res)
{
	*res = 7;
	return 0;
}

SEC("raw_tp")
int with_hidden(void *ctx)
{
	long a = 0, b = 0;

	fill_hidden(&a);
	fill_weak_hidden(&b);
	return a + b;
}

SEC("raw_tp")
int with_global(void *ctx)
{
	long a = 0;

	fill_global(&a);
	return a;
}

char LICENSE[] SEC("license") = "GPL";
