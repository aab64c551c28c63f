// SPDX-License-Identifier: GPL-2.0
// BTF-attached kinds: fentry, fexit, fmod_ret and lsm.  Some kernels refuse to load
// them (EPERM); where they load, each counts the test process's own calls.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

const volatile __u32 target_tgid = 0;
const volatile int refuse_errno = 0;
__u64 fentry_count = 0;
__u64 fexit_count = 0;
__s64 fexit_ret = 0;
__u64 lsm_count = 0;

static __always_inline bool from_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("fentry/__x64_sys_getpgid")
int BPF_PROG(on_entry, struct pt_regs *regs)
{
	if (from_target())
		__sync_fetch_and_add(&fentry_count, 1);
	return 0;
}

SEC("fexit/__x64_sys_getpgid")
int BPF_PROG(on_exit, struct pt_regs *regs, long ret)
{
	if (from_target()) {
		__sync_fetch_and_add(&fexit_count, 1);
		fexit_ret = ret;
	}
	return 0;
}

/* The LSM check of getsid() refuses the target process with refuse_errno (a
 * security_ function: fmod_ret needs no CONFIG_FUNCTION_ERROR_INJECTION there). */
SEC("fmod_ret/security_task_getsid")
int BPF_PROG(override, struct task_struct *p, int ret)
{
	return from_target() ? refuse_errno : 0;
}

/* No target in the section: the test sets one with set_attach_target(). */
SEC("fentry")
int BPF_PROG(untargeted)
{
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(on_file_open, struct file *file)
{
	if (from_target())
		__sync_fetch_and_add(&lsm_count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
