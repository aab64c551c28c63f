// SPDX-License-Identifier: GPL-2.0
// A uprobe and a uretprobe on libc's abs(): its argument and its result
// (libbpf-bootstrap's uprobe). The application attaches them to its own pid.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

int last_arg;
int last_ret;
unsigned long long calls;

SEC("uprobe")
int BPF_KPROBE(abs_entry, int x)
{
	last_arg = x;
	__sync_fetch_and_add(&calls, 1);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(abs_exit, int ret)
{
	last_ret = ret;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
