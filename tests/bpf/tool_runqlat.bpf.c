// SPDX-License-Identifier: GPL-2.0
/*
 * A tracing tool in the style of libbpf-tools' runqlat: how long tasks wait on
 * a run queue, as a log2 histogram of microseconds.
 *
 * Two variants of each hook, as in the real tool: BTF-enabled tracepoints
 * (tp_btf) and raw tracepoints (the fallback for older kernels).  The task
 * state is read through a relocation guarded by bpf_core_field_exists(): the
 * kernel's task_struct has __state, so the branch that reads the old "state"
 * field holds a poisoned instruction, which the verifier must see as dead.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define MAX_SLOTS 26
#define TASK_RUNNING 0

char LICENSE[] SEC("license") = "GPL";

const volatile bool targ_per_process = false;
const volatile pid_t targ_tgid = 0;

extern bool CONFIG_SCHED_INFO __kconfig __weak;

/* The field before 5.14. */
struct task_struct___o {
	volatile long state;
} __attribute__((preserve_access_index));

struct hist {
	__u32 slots[MAX_SLOTS];
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct hist);
} hists SEC(".maps");

static struct hist zero_hist;

__u64 samples;
__u64 sched_info; /* CONFIG_SCHED_INFO as the loader saw it */

static __always_inline unsigned int get_task_state(void *task)
{
	struct task_struct___o *old = task;

	if (bpf_core_field_exists(struct task_struct, __state))
		return BPF_CORE_READ((struct task_struct *)task, __state);
	return BPF_CORE_READ(old, state);
}

static __always_inline __u64 log2l(__u64 v)
{
	__u64 r = 0;

	while (v > 1 && r < MAX_SLOTS - 1) {
		v >>= 1;
		r++;
	}
	return r;
}

static __always_inline int trace_enqueue(__u32 tgid, __u32 pid)
{
	__u64 ts;

	if (!pid || (targ_tgid && targ_tgid != tgid))
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
	return 0;
}

static __always_inline int handle_switch(struct task_struct *prev, struct task_struct *next)
{
	struct hist *histp;
	__u64 *tsp, slot;
	__u32 pid, key;
	__s64 delta;

	if (get_task_state(prev) == TASK_RUNNING)
		trace_enqueue(BPF_CORE_READ(prev, tgid), BPF_CORE_READ(prev, pid));

	pid = BPF_CORE_READ(next, pid);
	tsp = bpf_map_lookup_elem(&start, &pid);
	if (!tsp)
		return 0;
	delta = bpf_ktime_get_ns() - *tsp;
	if (delta < 0)
		goto cleanup;

	key = targ_per_process ? BPF_CORE_READ(next, tgid) : (__u32)-1;
	histp = bpf_map_lookup_elem(&hists, &key);
	if (!histp) {
		bpf_map_update_elem(&hists, &key, &zero_hist, BPF_NOEXIST);
		histp = bpf_map_lookup_elem(&hists, &key);
		if (!histp)
			goto cleanup;
		BPF_CORE_READ_STR_INTO(&histp->comm, next, comm);
	}
	slot = log2l(delta / 1000U);
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	__sync_fetch_and_add(&histp->slots[slot], 1);
	__sync_fetch_and_add(&samples, 1);
	sched_info = CONFIG_SCHED_INFO;
cleanup:
	bpf_map_delete_elem(&start, &pid);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
	return trace_enqueue(p->tgid, p->pid);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new, struct task_struct *p)
{
	return trace_enqueue(p->tgid, p->pid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return handle_switch(prev, next);
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(handle_sched_wakeup, struct task_struct *p)
{
	return trace_enqueue(BPF_CORE_READ(p, tgid), BPF_CORE_READ(p, pid));
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(handle_sched_wakeup_new, struct task_struct *p)
{
	return trace_enqueue(BPF_CORE_READ(p, tgid), BPF_CORE_READ(p, pid));
}

SEC("raw_tp/sched_switch")
int BPF_PROG(handle_sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	return handle_switch(prev, next);
}
