// SPDX-License-Identifier: GPL-2.0
/* Every keyed map kind, each with a program that reads or writes it:
 * inputs come from .bss (key_in, value_in, lpm_in), results go to .bss (results,
 * found), so Python drives the program with test_run() and checks both ways.
 * raw_tp programs: test_run can pick the CPU, and sleepable (syscall) programs may
 * not use every map kind; the spin lock needs a networking program (tracing programs
 * may not take one, syscall programs only from 6.2).  Bloom filters (5.16) are in
 * maps_bloom.bpf.c: kernels without them still load this object. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct stats {
	__u64 count;
	__u64 total;
};

struct lpm_v4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct locked_value {
	struct bpf_spin_lock lock;
	__u64 value;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct stats);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} pc_hash SEC(".maps");

/* Room for every CPU's local free list (up to 128 nodes each): with fewer entries an
 * LRU map can evict before it is full (5.10 and 6.1 did), and the test's keys go. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} lru_pc_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct stats);
} pc_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 64);
	__type(key, struct lpm_v4_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} lpm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 8);
	__type(value, __u64);
} queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 8);
	__type(value, __u64);
} stack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct locked_value);
} locked SEC(".maps");

__u32 key_in;
__u64 value_in;
struct lpm_v4_key lpm_in;
__u64 results[4];
int found;

SEC("raw_tp") int hash_add(void *ctx)
{
	struct stats *s = bpf_map_lookup_elem(&hash, &key_in);

	if (!s) {
		struct stats fresh = { .count = 1, .total = value_in };

		return bpf_map_update_elem(&hash, &key_in, &fresh, BPF_NOEXIST);
	}
	__sync_fetch_and_add(&s->count, 1);
	__sync_fetch_and_add(&s->total, value_in);
	return 0;
}

SEC("raw_tp") int hash_get(void *ctx)
{
	struct stats *s = bpf_map_lookup_elem(&hash, &key_in);

	found = s != 0;
	if (s) {
		results[0] = s->count;
		results[1] = s->total;
	}
	return 0;
}

/* deletes the odd keys below key_in: a bounded loop (5.3+), not bpf_loop() (5.17+),
 * so that the object loads on 5.10 */
SEC("raw_tp") int hash_delete_odd(void *ctx)
{
	for (__u32 i = 0; i < 512; i++) {
		__u32 key = 2 * i + 1;

		if (key >= key_in)
			break;
		bpf_map_delete_elem(&hash, &key);
	}
	return 0;
}

static __always_inline int add_u64(void *map)
{
	__u64 *v = bpf_map_lookup_elem(map, &key_in);

	if (!v)
		return bpf_map_update_elem(map, &key_in, &value_in, BPF_ANY);
	*v += value_in;
	return 0;
}

static __always_inline int get_u64(void *map)
{
	__u64 *v = bpf_map_lookup_elem(map, &key_in);

	found = v != 0;
	if (v)
		results[0] = *v;
	return 0;
}

SEC("raw_tp") int lru_add(void *ctx) { return add_u64(&lru); }
SEC("raw_tp") int lru_get(void *ctx) { return get_u64(&lru); }
SEC("raw_tp") int array_add(void *ctx) { return add_u64(&array); }
SEC("raw_tp") int array_get(void *ctx) { return get_u64(&array); }
SEC("raw_tp") int pc_hash_add(void *ctx) { return add_u64(&pc_hash); }
SEC("raw_tp") int pc_hash_get(void *ctx) { return get_u64(&pc_hash); }
SEC("raw_tp") int lru_pc_hash_add(void *ctx) { return add_u64(&lru_pc_hash); }
SEC("raw_tp") int lru_pc_hash_get(void *ctx) { return get_u64(&lru_pc_hash); }

SEC("raw_tp") int pc_array_add(void *ctx)
{
	struct stats *s = bpf_map_lookup_elem(&pc_array, &key_in);

	if (!s)
		return 1;
	s->count += 1;
	s->total += value_in;
	return 0;
}

SEC("raw_tp") int pc_array_get(void *ctx)
{
	struct stats *s = bpf_map_lookup_elem(&pc_array, &key_in);

	found = s != 0;
	if (s) {
		results[0] = s->count;
		results[1] = s->total;
	}
	return 0;
}

SEC("raw_tp") int lpm_get(void *ctx)
{
	__u32 *v = bpf_map_lookup_elem(&lpm, &lpm_in);

	found = v != 0;
	if (v)
		results[0] = *v;
	return 0;
}

SEC("raw_tp") int lpm_add(void *ctx)
{
	__u32 v = value_in;

	return bpf_map_update_elem(&lpm, &lpm_in, &v, BPF_ANY);
}

SEC("raw_tp") int queue_push(void *ctx) { return bpf_map_push_elem(&queue, &value_in, 0); }
SEC("raw_tp") int stack_push(void *ctx) { return bpf_map_push_elem(&stack, &value_in, 0); }

SEC("raw_tp") int queue_pop(void *ctx)
{
	found = bpf_map_pop_elem(&queue, &results[0]) == 0;
	return 0;
}

SEC("raw_tp") int stack_pop(void *ctx)
{
	found = bpf_map_pop_elem(&stack, &results[0]) == 0;
	return 0;
}


SEC("tc") int locked_add(struct __sk_buff *skb)
{
	struct locked_value *v = bpf_map_lookup_elem(&locked, &key_in);

	if (!v)
		return 1;
	bpf_spin_lock(&v->lock);
	v->value += value_in;
	bpf_spin_unlock(&v->lock);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
