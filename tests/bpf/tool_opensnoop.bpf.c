// SPDX-License-Identifier: GPL-2.0
/*
 * A tracing tool in the style of libbpf-tools' opensnoop: openat() calls of one
 * process (or all) with path, flags and result, sent through a ring buffer.
 *
 * The entry tracepoint keeps the arguments per thread; the exit tracepoint
 * pairs them with the result.  A second pair of programs does the same for
 * open() where the architecture has it (autoload off when it does not, as the
 * real tool decides at run time).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define TASK_COMM_LEN 16
#define NAME_MAX 255

char LICENSE[] SEC("license") = "GPL";

const volatile pid_t targ_tgid = 0; /* 0: every process */
const volatile bool targ_failed = false;

struct args {
	const char *fname;
	int flags;
};

struct open_event {
	__u64 ts;
	__u32 pid;
	__u32 tid;
	__s32 ret;
	__s32 flags;
	char comm[TASK_COMM_LEN];
	char fname[NAME_MAX + 1];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct args);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline bool trace_allowed(__u32 tgid)
{
	return !targ_tgid || targ_tgid == tgid;
}

static __always_inline int enter(const char *fname, int flags)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct args args = {};

	if (!trace_allowed(id >> 32))
		return 0;
	args.fname = fname;
	args.flags = flags;
	bpf_map_update_elem(&start, &tid, &args, BPF_ANY);
	return 0;
}

/* A subprogram on purpose: relocations (map, data, CO-RE) inside .text. */
static __noinline int leave(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct task_struct *task;
	struct open_event *event;
	struct args *args;

	args = bpf_map_lookup_elem(&start, &tid);
	if (!args)
		return 0;
	if (targ_failed && ret >= 0)
		goto cleanup;
	event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
	if (!event)
		goto cleanup;
	task = (struct task_struct *)bpf_get_current_task();
	event->ts = bpf_ktime_get_ns();
	event->pid = BPF_CORE_READ(task, tgid);
	event->tid = tid;
	event->ret = ret;
	event->flags = args->flags;
	bpf_get_current_comm(&event->comm, sizeof(event->comm));
	bpf_probe_read_user_str(&event->fname, sizeof(event->fname), args->fname);
	bpf_ringbuf_submit(event, 0);
cleanup:
	bpf_map_delete_elem(&start, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int tracepoint__syscalls__sys_enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	return enter((const char *)ctx->args[1], (int)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int tracepoint__syscalls__sys_exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	return leave(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_open")
int tracepoint__syscalls__sys_enter_open(struct trace_event_raw_sys_enter *ctx)
{
	return enter((const char *)ctx->args[0], (int)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_open")
int tracepoint__syscalls__sys_exit_open(struct trace_event_raw_sys_exit *ctx)
{
	return leave(ctx->ret);
}
