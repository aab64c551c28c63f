// SPDX-License-Identifier: GPL-2.0
/* Maps holding other kernel objects: maps of maps (with slots set by .values and
 * by hand) and a prog array for tail calls; plus a pinned map and a stack trace map
 * filled by a tracepoint. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct inner_array {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
};

struct inner_array inner_a SEC(".maps");
struct inner_array inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_array);
} outer_array SEC(".maps") = {
	.values = { [0] = &inner_a, [2] = &inner_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, struct inner_array);
} outer_hash SEC(".maps") = {
	.values = { [3] = &inner_b },
};

int tail_a(void *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__array(values, int(void *));
} jump SEC(".maps") = {
	.values = { [0] = (void *)&tail_a },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pinned_counts SEC(".maps");

/* One map each for the user and the kernel stack: two stacks hashed into one map
 * may share a bucket, and bpf_get_stackid() then fails with -EEXIST. */
struct stack_map {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 64);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
};

struct stack_map stacks SEC(".maps");
struct stack_map kernel_stacks SEC(".maps");

__u32 key_in;
__u64 results[4];
int found;
int target_pid;
long user_stack_id = -1;
long kernel_stack_id = -1;

static __always_inline int read_inner(void *outer)
{
	__u32 zero = 0;
	void *inner = bpf_map_lookup_elem(outer, &key_in);
	__u64 *v;

	found = inner != 0;
	if (!inner)
		return 0;
	v = bpf_map_lookup_elem(inner, &zero);
	results[0] = v ? *v : (__u64)-1;
	return 0;
}

SEC("raw_tp") int outer_array_get(void *ctx) { return read_inner(&outer_array); }
SEC("raw_tp") int outer_hash_get(void *ctx) { return read_inner(&outer_hash); }

SEC("raw_tp") int tail_a(void *ctx)
{
	results[1] = 111;
	return 1;
}

SEC("raw_tp") int tail_b(void *ctx)
{
	results[1] = 222;
	return 2;
}

SEC("raw_tp") int dispatch(void *ctx)
{
	results[1] = 0;
	bpf_tail_call(ctx, &jump, key_in);
	return 99;
}

SEC("raw_tp") int pinned_add(void *ctx)
{
	__u64 one = 1, *v = bpf_map_lookup_elem(&pinned_counts, &key_in);

	if (!v)
		return bpf_map_update_elem(&pinned_counts, &key_in, &one, BPF_ANY);
	*v += 1;
	return 0;
}

/* A raw tracepoint: its kernel stack is the kernel's on every kernel (a syscall
 * tracepoint's is empty before 6.x: bpf_get_stackid() answers -EFAULT). */
SEC("raw_tp/sys_enter") int on_getppid(struct bpf_raw_tracepoint_args *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_pid ||
	    ctx->args[1] != 110 /* x86-64 __NR_getppid */)
		return 0;
	user_stack_id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	kernel_stack_id = bpf_get_stackid(ctx, &kernel_stacks, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
