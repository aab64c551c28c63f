// SPDX-License-Identifier: GPL-2.0
/*
 * CO-RE oracle corpus: kconfig externs, untyped ksyms, weak typed ksyms,
 * kfunc calls, weak kfuncs, and global data in .data / .rodata / .data.*.
 *
 * Typed ksyms that resolve to a real kernel variable live in
 * core_ksyms.bpf.c: this kernel has no CONFIG_KALLSYMS_ALL, so the verifier
 * cannot find their addresses and refuses those programs.
 *
 * Build: clang-19 -g -O2 -target bpf -D__TARGET_ARCH_x86 -I<vmlinux.h dir>
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

#ifndef bpf_ksym_exists
/*
 * libbpf >= 1.2 provides this in bpf_helpers.h. Evaluates to whether a
 * __weak ksym or kfunc was resolved by the loader; the static assertion
 * catches symbols that are not weak (their address would be a constant).
 */
#define bpf_ksym_exists(sym)                                                          \
	({                                                                            \
		_Static_assert(!__builtin_constant_p(!!(sym)), #sym " must be __weak"); \
		!!(sym);                                                              \
	})
#endif

/* ---- kconfig externs (.kconfig) ----------------------------------------------- */

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;
extern bool LINUX_HAS_BPF_COOKIE __kconfig;
extern int LINUX_VIRTUAL_THAT_DOES_NOT_EXIST __kconfig __weak; /* weak LINUX_* -> 0 */
extern bool CONFIG_BPF_SYSCALL __kconfig __weak;
extern bool CONFIG_SMP __kconfig;
extern int CONFIG_HZ __kconfig __weak;
extern unsigned long long CONFIG_PHYSICAL_START __kconfig __weak; /* hex in the config */
extern enum libbpf_tristate CONFIG_BPF_PRELOAD_UMD __kconfig __weak;
extern enum libbpf_tristate CONFIG_KPROBES __kconfig __weak; /* "is not set" here */
extern char CONFIG_DEFAULT_TCP_CONG[16] __kconfig __weak;
extern int CONFIG_THIS_OPTION_DOES_NOT_EXIST __kconfig __weak;

/* ---- ksyms (.ksyms) ----------------------------------------------------------- */

/* untyped: address from /proc/kallsyms */
extern const void bpf_prog_put __ksym;
extern const void bpf_prog_fops __ksym __weak; /* a data symbol: absent without KALLSYMS_ALL */
extern const void symbol_that_does_not_exist_anywhere __ksym __weak;

/* typed, weak, and not in kernel BTF: resolves to NULL */
extern const int percpu_var_that_does_not_exist __ksym __weak;

/* kfuncs (weak so that bpf_ksym_exists() can probe them) */
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;
extern int bpf_kfunc_that_does_not_exist(int x) __ksym __weak;

/* ---- initialised global data ------------------------------------------------------ */

__u64 data_marker = 0x1122334455667788ULL;	/* .data */
const volatile __u32 rodata_knob = 42;		/* .rodata */
__u64 custom_counter SEC(".data.custom") = 7;	/* .data.custom */

/* ---- results (.bss) ---------------------------------------------------------------- */

__u64 kver;
__u64 has_syscall_wrapper;
__u64 has_bpf_cookie;
__u64 virtual_missing;
__u64 cfg_bpf_syscall;
__u64 cfg_smp;
__u64 cfg_hz;
__u64 cfg_physical_start;
__u64 cfg_preload_umd;
__u64 cfg_kprobes;
__u64 cfg_missing;
char cfg_tcp_cong[16];

__u64 ksym_prog_put_addr;
__u64 ksym_prog_fops_addr;
__u64 ksym_missing_addr;
__u64 ksym_missing_typed_addr;
__u64 ksym_missing_typed_value;

__u64 kfunc_from_pid_exists;
__u64 kfunc_missing_exists;
__u64 kfunc_missing_ret;
__u64 kfunc_found;
__u64 kfunc_task_pid;
__u64 kfunc_task_off_pid;

__u64 data_seen;
__u64 rodata_seen;

/* ---- programs ------------------------------------------------------------------------ */

SEC("raw_tp")
int externs_kconfig(void *ctx)
{
	kver = LINUX_KERNEL_VERSION;
	has_syscall_wrapper = LINUX_HAS_SYSCALL_WRAPPER;
	has_bpf_cookie = LINUX_HAS_BPF_COOKIE;
	virtual_missing = LINUX_VIRTUAL_THAT_DOES_NOT_EXIST;
	cfg_bpf_syscall = CONFIG_BPF_SYSCALL;
	cfg_smp = CONFIG_SMP;
	cfg_hz = CONFIG_HZ;
	cfg_physical_start = CONFIG_PHYSICAL_START;
	cfg_preload_umd = CONFIG_BPF_PRELOAD_UMD;
	cfg_kprobes = CONFIG_KPROBES;
	cfg_missing = CONFIG_THIS_OPTION_DOES_NOT_EXIST;
	__builtin_memcpy(cfg_tcp_cong, CONFIG_DEFAULT_TCP_CONG, sizeof(cfg_tcp_cong));
	return 0;
}

SEC("raw_tp")
int externs_ksyms(void *ctx)
{
	ksym_prog_put_addr = (__u64)&bpf_prog_put;
	ksym_prog_fops_addr = (__u64)&bpf_prog_fops;
	ksym_missing_addr = (__u64)&symbol_that_does_not_exist_anywhere;
	ksym_missing_typed_addr = (__u64)&percpu_var_that_does_not_exist;
	/* dead once the loader resolves the weak ksym to NULL */
	if (&percpu_var_that_does_not_exist)
		ksym_missing_typed_value =
			*(const int *)bpf_this_cpu_ptr(&percpu_var_that_does_not_exist);
	return 0;
}

/* Kfuncs are called from syscall programs (5.14); bpf_task_from_pid() came in 6.2.
 * "?" leaves the program out of the load unless it is asked for. */
SEC("?syscall")
int externs_kfuncs(void *ctx)
{
	s32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct task_struct *task;

	kfunc_from_pid_exists = bpf_ksym_exists(bpf_task_from_pid);
	kfunc_missing_exists = bpf_ksym_exists(bpf_kfunc_that_does_not_exist);
	/* the call must be removed as dead code when the kfunc is missing */
	if (bpf_ksym_exists(bpf_kfunc_that_does_not_exist))
		kfunc_missing_ret = bpf_kfunc_that_does_not_exist(1);

	task = bpf_task_from_pid(tgid);
	if (!task)
		return 1;
	kfunc_found = 1;
	kfunc_task_pid = task->pid;
	kfunc_task_off_pid = bpf_core_field_offset(task->pid);
	bpf_task_release(task);
	return 0;
}

SEC("raw_tp")
int externs_data(void *ctx)
{
	data_seen = data_marker;
	rodata_seen = rodata_knob;
	custom_counter++;
	return (int)rodata_knob;
}
