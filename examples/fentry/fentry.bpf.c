// SPDX-License-Identifier: GPL-2.0
// Files being deleted: fentry and fexit on do_unlinkat (libbpf-bootstrap's
// fentry). Unlike a kprobe, the arguments are typed and read directly, and fexit
// sees them next to the result.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct event {
	int pid;
	bool exit;
	long ret;
	char filename[128];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
	__type(value, struct event);
} events SEC(".maps");

static int report(struct filename *name, bool exit, long ret)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->exit = exit;
	e->ret = ret;
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), name->name);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("fentry/do_unlinkat")
int BPF_PROG(do_unlinkat, int dfd, struct filename *name)
{
	return report(name, false, 0);
}

SEC("fexit/do_unlinkat")
int BPF_PROG(do_unlinkat_exit, int dfd, struct filename *name, long ret)
{
	return report(name, true, ret);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
