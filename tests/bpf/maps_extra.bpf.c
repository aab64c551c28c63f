// SPDX-License-Identifier: GPL-2.0
/* map_extra declared as libbpf's __ulong() declares it: an anonymous enum of one
 * value, an ENUM64 when the value needs 64 bits (an arena's start address).  The
 * enums are written out because __ulong() is not in libbpf 1.1's bpf_helpers.h and
 * can appear only once in a file (its enumerator's name does not take __COUNTER__). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 64);
	__type(value, __u32);
	enum { bloom_hashes = 5 } map_extra;
} bloom SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4); /* pages */
	enum { arena_start = 1ull << 44 } map_extra;
} arena SEC(".maps");

__u32 key_in;
int found;

SEC("raw_tp") int bloom_check(void *ctx)
{
	found = bpf_map_peek_elem(&bloom, &key_in) == 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
