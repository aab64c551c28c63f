// SPDX-License-Identifier: MIT OR GPL-2.0-only
// execcount: every successful exec() — its pid, parent, command and file — sent
// through a ring buffer, and a count of exec()s per command in a hash map.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define COMM_LEN 16
#define FILENAME_LEN 128

struct event {
	__u32 pid;
	__u32 ppid;
	char comm[COMM_LEN];
	char filename[FILENAME_LEN];
};

struct comm_key {
	char comm[COMM_LEN];
};

/* Untyped, as libbpf wants it; `event-types` in pyproject.toml types it. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct comm_key);
	__type(value, __u64);
} counts SEC(".maps");


/* Keeps struct event in BTF, for `event-types` (libbpf refuses a typed ring buffer). */
const struct event *unused_event __attribute__((unused));

/* Set before load: count only the exec()s of this user (-1: everyone's). */
const volatile __u32 target_uid = (__u32)-1;

SEC("tp/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct comm_key key = {};
	unsigned int filename_at;
	struct event *e;
	__u64 one = 1, *count;

	if (target_uid != (__u32)-1 && (__u32)bpf_get_current_uid_gid() != target_uid)
		return 0;

	bpf_get_current_comm(key.comm, sizeof(key.comm));
	count = bpf_map_lookup_elem(&counts, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	__builtin_memcpy(e->comm, key.comm, sizeof(e->comm));
	filename_at = BPF_CORE_READ(ctx, __data_loc_filename) & 0xFFFF;
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), (void *)ctx + filename_at);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
