// SPDX-License-Identifier: GPL-2.0
// Iterators, perf_event sampling and an XDP program for test_run.  The syscall
// program (5.14+) is in attach_syscall.bpf.c: kernels without it still load this.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

const volatile __u32 target_tgid = 0;
__u64 samples = 0;
__u64 target_samples = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} numbers SEC(".maps");

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (!task)
		return 0;
	BPF_SEQ_PRINTF(seq, "%d %d %s\n", task->tgid, task->pid, task->comm);
	return 0;
}

SEC("iter/bpf_map_elem")
int dump_numbers(struct bpf_iter__bpf_map_elem *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	__u32 *key = ctx->key;
	__u64 *value = ctx->value;

	if (!key || !value)
		return 0;
	BPF_SEQ_PRINTF(seq, "%u=%llu\n", *key, *value);
	return 0;
}

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	__sync_fetch_and_add(&samples, 1);
	if ((bpf_get_current_pid_tgid() >> 32) == target_tgid)
		__sync_fetch_and_add(&target_samples, 1);
	return 0;
}

/* test_run: XDP_PASS with byte 1 rewritten when the frame starts with 0xaa, else drop. */
SEC("xdp")
int xdp_rewrite(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;

	if (data + 2 > end || data[0] != 0xaa)
		return XDP_DROP;
	data[1] = data[0] ^ 0xff;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
