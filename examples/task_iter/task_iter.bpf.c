// SPDX-License-Identifier: GPL-2.0
// A task iterator: one line per thread of the system, written with
// BPF_SEQ_PRINTF and read by the application in one read() (libbpf-bootstrap's
// task_iter, without stacks).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (!task) /* the end of the iteration */
		return 0;
	BPF_SEQ_PRINTF(seq, "%d %d %d %u %s\n", task->tgid, task->pid,
		       BPF_CORE_READ(task, real_parent, tgid), task->__state, task->comm);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
