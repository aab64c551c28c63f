// SPDX-License-Identifier: GPL-2.0
/*
 * CO-RE oracle corpus: field, type and enum relocations.
 *
 * Every program stores what the loader relocated into a named .bss global so
 * that the data sections can be compared byte for byte between loaders after
 * one BPF_PROG_TEST_RUN of each program (raw_tp programs: 5.10 runs them).
 *
 * Build: clang-19 -g -O2 -target bpf -D__TARGET_ARCH_x86 -I<vmlinux.h dir>
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

/* ---- local flavors of kernel types ------------------------------------- */

/* Subset of task_struct with members declared wider than the kernel's:
 * BYTE_SIZE of 'tgid' relocates to 4, TYPE_MATCHES fails, and direct loads
 * of the (unsigned) 'flags' and 'ptrace' are narrowed by the loader from 8
 * to 4 bytes. An unnarrowed load of 'ptrace' would also pick up 'on_cpu'
 * (1 while the test run executes) on kernels where it follows 'ptrace'.
 */
struct task_struct___wide {
	int pid;
	long tgid;
	unsigned long flags;
	unsigned long ptrace;
	char comm[16];
} __attribute__((preserve_access_index));

/* Subset of task_struct with exactly matching member types. */
struct task_struct___exact {
	pid_t pid;
	pid_t tgid;
} __attribute__((preserve_access_index));

/* A member that no kernel has. */
struct task_struct___gone {
	int field_that_does_not_exist;
} __attribute__((preserve_access_index));

/* A type that no kernel has. */
struct type_that_does_not_exist___probe {
	int x;
} __attribute__((preserve_access_index));

/* Enumerator names are matched with the ___flavor suffix stripped. */
enum bpf_map_type___probe {
	BPF_MAP_TYPE_USER_RINGBUF___probe = 1000,
	BPF_MAP_TYPE_THAT_DOES_NOT_EXIST___probe = 1001,
};

enum bpf_map_type___subset {
	BPF_MAP_TYPE_HASH___subset = 1,
	BPF_MAP_TYPE_ARRAY___subset = 2,
};

/* ---- results (all in .bss) ---------------------------------------------- */

/* field byte offsets (BPF_FIELD_BYTE_OFFSET) */
__u64 off_task_pid;
__u64 off_task_tgid;
__u64 off_task_comm;
__u64 off_task_se_exec_start; /* nested member: se.exec_start */
__u64 off_wide_tgid;	      /* through a flavor */

/* field byte sizes (BPF_FIELD_BYTE_SIZE) */
__u64 size_task_pid;
__u64 size_task_comm;
__u64 size_wide_tgid; /* local 8, kernel 4 */

/* field existence (BPF_FIELD_EXISTS) */
__u64 exists_task_pid;
__u64 exists_wide_comm;
__u64 exists_gone_field;

/* type relocations */
__u64 type_exists_task;
__u64 type_exists_missing;
__u64 type_size_task;
__u64 type_size_missing;
__u64 type_matches_task;
__u64 type_matches_exact;
__u64 type_matches_wide;
__u64 type_matches_missing;
__u64 type_matches_map_type_probe;
__u64 type_matches_map_type_subset;
__u64 type_id_local_task;
__u64 type_id_kernel_task;
__u64 type_id_kernel_missing;

/* enum relocations */
__u64 enum_exists_user_ringbuf;
__u64 enum_exists_missing;
__u64 enum_value_user_ringbuf;
__u64 enum_value_user_ringbuf_flavor;
__u64 enum_value_perf_context_kernel; /* ENUM64, patched into ld_imm64 */

/* BPF_CORE_READ of the current task (the test-run caller) */
__u64 cur_pid;
__u64 cur_tgid;
__u64 cur_ppid; /* real_parent->tgid */
__u64 cur_pid_direct; /* direct load through a BTF pointer */
__u64 cur_flags;      /* BPF_CORE_READ(task, flags) */
__u64 cur_flags_wide; /* direct 8-byte load through task_struct___wide, narrowed */
__u64 cur_ptrace;
__u64 cur_ptrace_wide;
char cur_comm[16];

/* bitfields */
__u64 bf_in_execve;
__u64 bf_is_child_subreaper;
__u64 bf_is_child_subreaper_direct;
__u64 bf_in_execve_byte_off;
__u64 bf_in_execve_byte_size;
__u64 bf_in_execve_lshift;
__u64 bf_in_execve_rshift;
__u64 bf_in_execve_signed;
__u64 bf_subreaper_byte_off;
__u64 bf_subreaper_lshift;
__u64 bf_subreaper_rshift;

/* results produced inside subprograms */
__u64 sub_off_task_comm;
__u64 sub_exists_gone;
__u64 sub_tgid;
__u64 global_off_signal;
__u64 global_size_task;
__u64 global_enum_value;

/* the raw_tp program (uses bpf_get_current_task(), untyped) */
__u64 rawtp_pid;
__u64 rawtp_tgid;
__u64 rawtp_off_pid;
char rawtp_comm[16];
__u64 rawtp_runs;

/* ---- subprograms --------------------------------------------------------- */

/* Static, never inlined: libbpf appends it to every caller and relocates each copy. */
static __noinline int sub_task_info(struct task_struct *task)
{
	sub_off_task_comm = bpf_core_field_offset(struct task_struct, comm);
	sub_exists_gone = bpf_core_field_exists(struct task_struct___gone,
						field_that_does_not_exist);
	sub_tgid = BPF_CORE_READ(task, tgid);
	return 0;
}

/* Global function: verified on its own, so it takes only scalars. */
__noinline int global_core_info(int which)
{
	if (which == 0)
		global_off_signal = bpf_core_field_offset(struct task_struct, signal);
	else if (which == 1)
		global_size_task = bpf_core_type_size(struct task_struct);
	else if (bpf_core_enum_value_exists(enum bpf_map_type, BPF_MAP_TYPE_USER_RINGBUF))
		global_enum_value = bpf_core_enum_value(enum bpf_map_type,
							BPF_MAP_TYPE_USER_RINGBUF);
	return which;
}

/* ---- programs -------------------------------------------------------------- */

SEC("raw_tp")
int core_fields(void *ctx)
{
	off_task_pid = bpf_core_field_offset(struct task_struct, pid);
	off_task_tgid = bpf_core_field_offset(struct task_struct, tgid);
	off_task_comm = bpf_core_field_offset(struct task_struct, comm);
	off_task_se_exec_start = bpf_core_field_offset(struct task_struct, se.exec_start);
	off_wide_tgid = bpf_core_field_offset(struct task_struct___wide, tgid);

	size_task_pid = bpf_core_field_size(struct task_struct, pid);
	size_task_comm = bpf_core_field_size(struct task_struct, comm);
	size_wide_tgid = bpf_core_field_size(struct task_struct___wide, tgid);

	exists_task_pid = bpf_core_field_exists(struct task_struct, pid);
	exists_wide_comm = bpf_core_field_exists(struct task_struct___wide, comm);
	exists_gone_field = bpf_core_field_exists(struct task_struct___gone,
						  field_that_does_not_exist);
	return 0;
}

SEC("raw_tp")
int core_types(void *ctx)
{
	type_exists_task = bpf_core_type_exists(struct task_struct);
	type_exists_missing = bpf_core_type_exists(struct type_that_does_not_exist___probe);
	type_size_task = bpf_core_type_size(struct task_struct);
	type_size_missing = bpf_core_type_size(struct type_that_does_not_exist___probe);
	type_matches_task = bpf_core_type_matches(struct task_struct);
	type_matches_exact = bpf_core_type_matches(struct task_struct___exact);
	type_matches_wide = bpf_core_type_matches(struct task_struct___wide);
	type_matches_missing = bpf_core_type_matches(struct type_that_does_not_exist___probe);
	type_matches_map_type_probe = bpf_core_type_matches(enum bpf_map_type___probe);
	type_matches_map_type_subset = bpf_core_type_matches(enum bpf_map_type___subset);
	type_id_local_task = bpf_core_type_id_local(struct task_struct);
	type_id_kernel_task = bpf_core_type_id_kernel(struct task_struct);
	type_id_kernel_missing = bpf_core_type_id_kernel(struct type_that_does_not_exist___probe);

	enum_exists_user_ringbuf = bpf_core_enum_value_exists(enum bpf_map_type,
							      BPF_MAP_TYPE_USER_RINGBUF);
	enum_exists_missing = bpf_core_enum_value_exists(enum bpf_map_type___probe,
							 BPF_MAP_TYPE_THAT_DOES_NOT_EXIST___probe);
	/* USER_RINGBUF came in 6.1: its value is read where it exists (a value the
	 * kernel lacks is poisoned, and the verifier refuses a reachable poison) */
	if (bpf_core_enum_value_exists(enum bpf_map_type, BPF_MAP_TYPE_USER_RINGBUF)) {
		enum_value_user_ringbuf = bpf_core_enum_value(enum bpf_map_type,
							      BPF_MAP_TYPE_USER_RINGBUF);
		enum_value_user_ringbuf_flavor = bpf_core_enum_value(
			enum bpf_map_type___probe, BPF_MAP_TYPE_USER_RINGBUF___probe);
	}
	enum_value_perf_context_kernel = bpf_core_enum_value(enum perf_callchain_context,
							     PERF_CONTEXT_KERNEL);
	return 0;
}

/* bpf_get_current_task_btf() (5.11): "?" leaves the programs that call it out of the
 * load unless they are asked for, so that the object loads on 5.10. */
SEC("?raw_tp")
int core_read(void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct task_struct___wide *wide = (void *)task;
	struct signal_struct *sig;

	cur_pid = BPF_CORE_READ(task, pid);
	cur_tgid = BPF_CORE_READ(task, tgid);
	cur_ppid = BPF_CORE_READ(task, real_parent, tgid);
	cur_pid_direct = task->pid;
	cur_flags = BPF_CORE_READ(task, flags);
	cur_flags_wide = wide->flags;
	cur_ptrace = BPF_CORE_READ(task, ptrace);
	cur_ptrace_wide = wide->ptrace;
	BPF_CORE_READ_STR_INTO(&cur_comm, task, comm);

	bf_in_execve = BPF_CORE_READ_BITFIELD_PROBED(task, in_execve);
	sig = BPF_CORE_READ(task, signal);
	bf_is_child_subreaper = BPF_CORE_READ_BITFIELD_PROBED(sig, is_child_subreaper);
	bf_is_child_subreaper_direct = BPF_CORE_READ_BITFIELD(task->signal, is_child_subreaper);

	bf_in_execve_byte_off = __builtin_preserve_field_info(task->in_execve, BPF_FIELD_BYTE_OFFSET);
	bf_in_execve_byte_size = __builtin_preserve_field_info(task->in_execve, BPF_FIELD_BYTE_SIZE);
	bf_in_execve_lshift = __builtin_preserve_field_info(task->in_execve, BPF_FIELD_LSHIFT_U64);
	bf_in_execve_rshift = __builtin_preserve_field_info(task->in_execve, BPF_FIELD_RSHIFT_U64);
	bf_in_execve_signed = __builtin_preserve_field_info(task->in_execve, BPF_FIELD_SIGNED);
	bf_subreaper_byte_off = __builtin_preserve_field_info(sig->is_child_subreaper,
							      BPF_FIELD_BYTE_OFFSET);
	bf_subreaper_lshift = __builtin_preserve_field_info(sig->is_child_subreaper,
							    BPF_FIELD_LSHIFT_U64);
	bf_subreaper_rshift = __builtin_preserve_field_info(sig->is_child_subreaper,
							    BPF_FIELD_RSHIFT_U64);
	return 0;
}

SEC("?raw_tp")
int core_subprogs(void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	int acc = 0;

	acc += sub_task_info(task);
	acc += global_core_info(0);
	acc += global_core_info(1);
	acc += global_core_info(2);
	return acc; /* 0 + 0 + 1 + 2 */
}

SEC("raw_tp/sys_enter")
int core_rawtp(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	rawtp_pid = BPF_CORE_READ(task, pid);
	rawtp_tgid = BPF_CORE_READ(task, tgid);
	rawtp_off_pid = bpf_core_field_offset(task->pid);
	BPF_CORE_READ_STR_INTO(&rawtp_comm, task, comm);
	/* the static subprogram is shared with core_subprogs */
	sub_task_info(task);
	rawtp_runs++;
	return 0;
}
