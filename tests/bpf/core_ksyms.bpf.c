// SPDX-License-Identifier: GPL-2.0
/*
 * CO-RE oracle corpus: typed ksyms that resolve to real per-CPU kernel
 * variables, one program per access style.
 *
 * libbpf resolves these through kernel BTF (BPF_PSEUDO_BTF_ID), but the
 * verifier must then find the variable's address with kallsyms, which only
 * lists data symbols on kernels built with CONFIG_KALLSYMS_ALL. Kept apart
 * from core_externs.bpf.c so that a refusal here does not hide the rest.
 *
 * Build: clang-19 -g -O2 -target bpf -D__TARGET_ARCH_x86 -I<vmlinux.h dir>
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

extern const struct rq runqueues __ksym;

__u64 this_cpu_rq_cpu;
__u64 cpu0_rq_cpu;
__u64 cpu0_rq_found;
__u64 rq_off_cpu;

SEC("raw_tp")
int ksym_this_cpu(void *ctx)
{
	struct rq *rq = bpf_this_cpu_ptr(&runqueues);

	this_cpu_rq_cpu = rq->cpu;
	rq_off_cpu = bpf_core_field_offset(struct rq, cpu);
	return 0;
}

SEC("raw_tp")
int ksym_per_cpu(void *ctx)
{
	struct rq *rq = bpf_per_cpu_ptr(&runqueues, 0);

	if (!rq)
		return 1;
	cpu0_rq_found = 1;
	cpu0_rq_cpu = rq->cpu;
	return 0;
}
