// SPDX-License-Identifier: GPL-2.0
/* Ring buffers fed by raw_tp programs run with test_run() (5.10+): a numbered
 * sequence of fixed-size events (some discarded on request), records of varying
 * length, a second ring for multi-buffer polling.  The user ring buffer (6.1+) is in
 * ringbuf_user.bpf.c: kernels without it still load this object. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct event {
	__u64 seq;
	__u64 value;
	__u32 cpu;
	__u32 flags;
	__u64 tail;
};

/* The value type only names the events for the generated skeleton (RingBuf[event]);
 * the loader gives the kernel none, as libbpf does. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__type(value, struct event);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} varlen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024);
	__type(value, __u64);
} other SEC(".maps");

__u32 emit_count;    /* events per run */
__u32 discard_every; /* 0: none; else discard seq % n == 0 */
__u64 next_seq;
__u64 next_other;
__u64 dropped;       /* reservations the ring refused */

/* Bounded loops (5.3+), not bpf_loop() (5.17+): at most MAX_EMIT events or
 * MAX_VARLEN records per run (the verifier walks every turn of the loop). */
#define MAX_EMIT 1024
#define MAX_VARLEN 256

static __always_inline void emit_one(void)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		dropped++;
		return;
	}
	e->seq = next_seq++;
	e->value = e->seq * 3;
	e->cpu = bpf_get_smp_processor_id();
	e->flags = 0;
	e->tail = ~e->seq;
	if (discard_every && e->seq % discard_every == 0)
		bpf_ringbuf_discard(e, 0);
	else
		bpf_ringbuf_submit(e, 0);
}

SEC("raw_tp") int produce(void *ctx)
{
	for (__u32 i = 0; i < MAX_EMIT && i < emit_count; i++)
		emit_one();
	return 0;
}

static __always_inline void emit_varlen(__u32 i)
{
	__u8 buf[64] = {};
	__u32 len = (i % 7) * 9 + 1; /* 1..55 bytes */

	for (int j = 0; j < 64; j++)
		buf[j] = (__u8)(i + j);
	len &= 63;
	if (bpf_ringbuf_output(&varlen, buf, len, 0))
		dropped++;
}

SEC("raw_tp") int produce_varlen(void *ctx)
{
	for (__u32 i = 0; i < MAX_VARLEN && i < emit_count; i++)
		emit_varlen(i);
	return 0;
}

SEC("raw_tp") int produce_other(void *ctx)
{
	__u64 v = next_other++;

	return bpf_ringbuf_output(&other, &v, sizeof(v), 0);
}

char LICENSE[] SEC("license") = "GPL";
