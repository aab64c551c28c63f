// SPDX-License-Identifier: GPL-2.0
// Files being opened (bcc's opensnoop): openat() entry keeps the path,
// its exit reports it with the result, for every process or one.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct args {
	const char *filename;
	int flags;
};

struct event {
	int pid;
	int ret;
	int flags;
	char comm[16];
	char filename[256];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32); /* thread id */
	__type(value, struct args);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__type(value, struct event);
} events SEC(".maps");

const volatile int target_pid = 0;

SEC("tp/syscalls/sys_enter_openat")
int openat_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct args args = {
		.filename = (const char *)ctx->args[1],
		.flags = (int)ctx->args[2],
	};

	if (target_pid && target_pid != id >> 32)
		return 0;
	bpf_map_update_elem(&start, &tid, &args, BPF_ANY);
	return 0;
}

SEC("tp/syscalls/sys_exit_openat")
int openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct args *args = bpf_map_lookup_elem(&start, &tid);
	struct event *e;

	if (!args)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		e->pid = id >> 32;
		e->ret = ctx->ret;
		e->flags = args->flags;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
		bpf_probe_read_user_str(e->filename, sizeof(e->filename), args->filename);
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&start, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
