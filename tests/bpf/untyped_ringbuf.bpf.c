// SPDX-License-Identifier: GPL-2.0
// A ring buffer declared without __type(value): skelgen --event-type types it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sample {
	unsigned int seq;
	unsigned int value;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, int);
} not_a_stream SEC(".maps");

/* Keeps struct sample in BTF, as libbpf-tools do for their event types. */
const struct sample *unused_sample __attribute__((unused));

SEC("syscall")
int emit(void *ctx)
{
	for (unsigned int i = 0; i < 3; i++) {
		struct sample s = { .seq = i, .value = i * 100 };

		bpf_ringbuf_output(&samples, &s, sizeof(s), 0);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
