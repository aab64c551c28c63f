// SPDX-License-Identifier: GPL-2.0
/*
 * A tracing tool in the style of libbpf-tools' execsnoop: every execve() with
 * its parent, user, command and result, sent through a ring buffer.
 *
 * The entry tracepoint records what it can before the exec into a hash map; the
 * exit tracepoint completes the record (the command name after the exec, the
 * return value) and submits it.  The task is read with BPF_CORE_READ.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define TASK_COMM_LEN 16
#define FILENAME_LEN 64

char LICENSE[] SEC("license") = "GPL";

const volatile uid_t targ_uid = (uid_t)-1; /* -1: every user */
const volatile bool ignore_failed = false;

extern unsigned int LINUX_KERNEL_VERSION __kconfig;

struct exec_event {
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__s32 retval;
	__u32 kernel_version;
	__u32 args_seen;
	char comm[TASK_COMM_LEN];
	char filename[FILENAME_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct exec_event);
} execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

static const struct exec_event empty_event;

__u64 enter_count;
__u64 exit_count;

SEC("tracepoint/syscalls/sys_enter_execve")
int tracepoint__syscalls__sys_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32;
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	struct task_struct *task;
	struct exec_event *event;
	const char **argv;
	const char *arg;
	int i;

	if (targ_uid != (uid_t)-1 && targ_uid != uid)
		return 0;
	if (bpf_map_update_elem(&execs, &pid, &empty_event, BPF_NOEXIST))
		return 0;
	event = bpf_map_lookup_elem(&execs, &pid);
	if (!event)
		return 0;

	task = (struct task_struct *)bpf_get_current_task();
	event->pid = pid;
	event->ppid = BPF_CORE_READ(task, real_parent, tgid);
	event->uid = uid;
	event->kernel_version = LINUX_KERNEL_VERSION;
	bpf_probe_read_user_str(event->filename, sizeof(event->filename),
				(const char *)ctx->args[0]);
	argv = (const char **)ctx->args[1];
	for (i = 0; i < 8; i++) {
		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) || !arg)
			break;
		event->args_seen++;
	}
	__sync_fetch_and_add(&enter_count, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int tracepoint__syscalls__sys_exit_execve(struct trace_event_raw_sys_exit *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct exec_event *event, *out;
	long ret = ctx->ret;

	event = bpf_map_lookup_elem(&execs, &pid);
	if (!event)
		return 0;
	if (ignore_failed && ret < 0)
		goto cleanup;
	out = bpf_ringbuf_reserve(&events, sizeof(*out), 0);
	if (!out)
		goto cleanup;
	__builtin_memcpy(out, event, sizeof(*out));
	out->retval = ret;
	bpf_get_current_comm(&out->comm, sizeof(out->comm));
	bpf_ringbuf_submit(out, 0);
	__sync_fetch_and_add(&exit_count, 1);
cleanup:
	bpf_map_delete_elem(&execs, &pid);
	return 0;
}
