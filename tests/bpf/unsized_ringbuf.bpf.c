// SPDX-License-Identifier: GPL-2.0
/* A ring buffer declared without a size: libbpf refuses to load it (the kernel
 * rejects max_entries 0), and so does skelgen unless a size is set before load. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
} unsized SEC(".maps");

SEC("syscall")
int emit(void *ctx)
{
	__u64 value = 42;

	return bpf_ringbuf_output(&unsized, &value, sizeof(value), 0);
}

char LICENSE[] SEC("license") = "GPL";
