// SPDX-License-Identifier: GPL-2.0
/* A bloom filter map (kernel 5.16+) that programs push to and check, driven by
 * test_run() as in maps_kinds.bpf.c. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 64);
	__type(value, __u32);
	__uint(map_extra, 3); /* hash functions */
} bloom SEC(".maps");

__u32 key_in;
int found;

SEC("raw_tp") int bloom_push(void *ctx) { return bpf_map_push_elem(&bloom, &key_in, 0); }

SEC("raw_tp") int bloom_check(void *ctx)
{
	found = bpf_map_peek_elem(&bloom, &key_in) == 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
