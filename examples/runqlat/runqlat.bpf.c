// SPDX-License-Identifier: GPL-2.0
// Run queue latency as a log2 histogram of microseconds (bcc's runqlat): the
// time from a task's wakeup to its running, on raw tracepoints, counted with
// skelgen/hist.bpf.h into a global array the application reads in place.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <skelgen/hist.bpf.h>

#define MAX_SLOTS 26
#define TASK_RUNNING 0

struct task_struct___pre_5_14 {
	long state;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);   /* thread id */
	__type(value, __u64); /* when it was woken */
} start SEC(".maps");

__u32 slots[MAX_SLOTS]; /* libbpf-tools' slot convention */

static int enqueue(struct task_struct *p)
{
	__u32 pid = BPF_CORE_READ(p, pid);
	__u64 ts = bpf_ktime_get_ns();

	if (pid)
		bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
	return 0;
}

static long task_state(struct task_struct *p)
{
	if (bpf_core_field_exists(p->__state))
		return BPF_CORE_READ(p, __state);
	return BPF_CORE_READ((struct task_struct___pre_5_14 *)p, state);
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
	return enqueue(p);
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new, struct task_struct *p)
{
	return enqueue(p);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 pid = BPF_CORE_READ(next, pid);
	__u64 *woken;

	if (task_state(prev) == TASK_RUNNING) /* preempted: back on the queue */
		enqueue(prev);
	woken = bpf_map_lookup_elem(&start, &pid);
	if (!woken)
		return 0;
	hist_add(slots, MAX_SLOTS, (bpf_ktime_get_ns() - *woken) / 1000);
	bpf_map_delete_elem(&start, &pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
