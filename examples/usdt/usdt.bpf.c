// SPDX-License-Identifier: GPL-2.0
// Python garbage collections, through the interpreter's USDT probes
// python:gc__start and python:gc__done (libbpf-bootstrap's usdt; bcc's ugc):
// the generation collected, the objects freed, how long it took.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>

struct event {
	int pid;
	int generation;
	long collected;
	__u64 duration_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);         /* thread id */
	__type(value, struct event); /* the collection under way */
} running SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
	__type(value, struct event);
} events SEC(".maps");

SEC("usdt")
int BPF_USDT(gc_start, int generation)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct event e = {
		.pid = id >> 32,
		.generation = generation,
		.duration_ns = bpf_ktime_get_ns(), /* the start, until done */
	};

	bpf_map_update_elem(&running, &tid, &e, BPF_ANY);
	return 0;
}

SEC("usdt")
int BPF_USDT(gc_done, long collected)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct event *e = bpf_map_lookup_elem(&running, &tid);

	if (!e)
		return 0;
	e->collected = collected;
	e->duration_ns = bpf_ktime_get_ns() - e->duration_ns;
	bpf_ringbuf_output(&events, e, sizeof(*e), 0);
	bpf_map_delete_elem(&running, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
