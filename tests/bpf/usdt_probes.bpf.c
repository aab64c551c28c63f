// SPDX-License-Identifier: GPL-2.0
// USDT programs reading their arguments through libbpf's usdt.bpf.h: the probes of
// tests/kernel/usdt_target.c (attached by hand) and CPython's garbage collector
// (attached from the section names).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#define MAX_ARGS 12

const volatile __u32 target_tgid = 0;

// skelgen:exact: every argument slot, what bpf_usdt_arg() returned for it, the count
// and the USDT cookie of the attachment.
__s64 exact_args[MAX_ARGS];
__s32 exact_errors[MAX_ARGS];
__s32 exact_arg_cnt = 0;
__s32 exact_past_end = 0;
__u64 exact_cookie = 0;
__u64 exact_hits = 0;

SEC("usdt")
int on_exact(struct pt_regs *ctx)
{
	long value;

	exact_arg_cnt = bpf_usdt_arg_cnt(ctx);
	exact_cookie = bpf_usdt_cookie(ctx);
	for (int i = 0; i < MAX_ARGS; i++) {
		exact_errors[i] = bpf_usdt_arg(ctx, i, &value);
		exact_args[i] = value;
	}
	exact_past_end = bpf_usdt_arg(ctx, MAX_ARGS, &value);
	__sync_fetch_and_add(&exact_hits, 1);
	return 0;
}

// skelgen:natural, through the BPF_USDT() wrapper.
__s64 natural_args[5];
__u64 natural_hits = 0;

SEC("usdt")
int BPF_USDT(on_natural, int k, int round, long big, unsigned char small, short deref)
{
	natural_args[0] = k;
	natural_args[1] = round;
	natural_args[2] = big;
	natural_args[3] = small;
	natural_args[4] = deref;
	__sync_fetch_and_add(&natural_hits, 1);
	return 0;
}

// skelgen:multi: three sites per round; each hit's argument and cookie.
__s64 multi_values[16];
__u64 multi_cookies[16];
__u64 multi_hits = 0;

SEC("usdt")
int BPF_USDT(on_multi, int value)
{
	/* The sites fire one after the other in one thread: a plain increment numbers
	 * them.  An atomic fetch-and-add (its result used) needs Linux 5.12+. */
	__u64 hit = multi_hits++;

	if (hit < 16) {
		multi_values[hit] = value;
		multi_cookies[hit] = bpf_usdt_cookie(ctx);
	}
	return 0;
}

// skelgen:guarded: fires only while its semaphore is raised.
__s64 guarded_round = 0;
__u64 guarded_hits = 0;

SEC("usdt")
int BPF_USDT(on_guarded, int round)
{
	guarded_round = round;
	__sync_fetch_and_add(&guarded_hits, 1);
	return 0;
}

// CPython's gc__start(generation) and gc__done(collected), which it only reaches
// while their semaphores are raised; the first reads its argument from the stack.
__s64 python_gc_generation = -1;
__s64 python_gc_collected = -1;
__u64 python_gc_hits = 0;

SEC("usdt//usr/bin/python3:python:gc__start")
int BPF_USDT(on_python_gc_start, int generation)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	python_gc_generation = generation;
	__sync_fetch_and_add(&python_gc_hits, 1);
	return 0;
}

SEC("usdt//usr/bin/python3:python:gc__done")
int BPF_USDT(on_python_gc_done, long collected)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	python_gc_collected = collected;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
