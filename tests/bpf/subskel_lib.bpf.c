// SPDX-License-Identifier: GPL-2.0
// A BPF library: globals in every data section, a map and a program, linked into
// subskel_app.bpf.o's final object by bpftool gen object.  lib_bump() is what the
// application calls.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

int lib_counter;
int lib_step = 1;
const volatile int lib_limit = 1000;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} lib_calls SEC(".maps");

__noinline int lib_bump(void)
{
	__u32 key = 0;
	__u64 *calls = bpf_map_lookup_elem(&lib_calls, &key);

	if (calls)
		__sync_fetch_and_add(calls, 1);
	lib_counter += lib_step;
	if (lib_counter > lib_limit)
		lib_counter = lib_limit;
	return lib_counter;
}

SEC("raw_tp")
int lib_reset(void *ctx)
{
	lib_counter = 0;
	return 0;
}
