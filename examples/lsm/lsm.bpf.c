// SPDX-License-Identifier: GPL-2.0
// A BPF LSM program on the task_kill hook: signals to one protected process
// are refused with EPERM (libbpf-bootstrap's lsm, on a hook that harms nothing
// but the process the application chose).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define EPERM 1

const volatile int protected_tgid = 0;
unsigned long long denied;

SEC("lsm/task_kill")
int BPF_PROG(protect, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred, int ret)
{
	if (ret) /* an earlier program refused already */
		return ret;
	if (sig == 0 || p->tgid != protected_tgid)
		return 0;
	__sync_fetch_and_add(&denied, 1);
	return -EPERM;
}

char LICENSE[] SEC("license") = "GPL";
