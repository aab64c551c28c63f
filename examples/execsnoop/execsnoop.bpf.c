// SPDX-License-Identifier: GPL-2.0
// New processes as they exec (bcc's execsnoop): the arguments are taken at
// execve() entry, the result and the new comm at its exit.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define MAX_ARGS 8
#define ARG_SIZE 64

struct event {
	int pid;
	int ppid;
	int ret;
	int args_count;
	char comm[16];
	char args[MAX_ARGS][ARG_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32); /* thread id */
	__type(value, struct event);
} execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__type(value, struct event);
} events SEC(".maps");

static const struct event empty;

SEC("tp/syscalls/sys_enter_execve")
int execve_enter(struct trace_event_raw_sys_enter *ctx)
{
	const char **argv = (const char **)ctx->args[1];
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct event *e;
	const char *arg;

	if (bpf_map_update_elem(&execs, &tid, &empty, BPF_NOEXIST))
		return 0;
	e = bpf_map_lookup_elem(&execs, &tid);
	if (!e)
		return 0;
	for (int i = 0; i < MAX_ARGS; i++) {
		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) || !arg)
			break;
		if (bpf_probe_read_user_str(e->args[i], ARG_SIZE, arg) < 0)
			break;
		e->args_count++;
	}
	return 0;
}

SEC("tp/syscalls/sys_exit_execve")
int execve_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct event *e = bpf_map_lookup_elem(&execs, &tid);

	if (!e)
		return 0;
	e->pid = id >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->ret = ctx->ret;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_output(&events, e, sizeof(*e), 0);
	bpf_map_delete_elem(&execs, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
