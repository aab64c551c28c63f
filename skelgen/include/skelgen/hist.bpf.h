/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * skelgen/hist.bpf.h: log2 histogram slots on the BPF side, matching the
 * Python printers of skelgen_runtime (print_log2_hist, format_log2_hist).
 *
 * Two slot conventions are in use, one slot apart:
 *
 *   value          0   1   2-3   4-7   8-15 ...
 *   libbpf-tools   0   0   1     2     3        log2l() of bits.bpf.h
 *   bcc            1   1   2     3     4        bpf_log2l() of bcc
 *
 * Print a histogram with the convention it was filled with:
 * print_log2_hist(..., slots="libbpf-tools") for hist_slot(),
 * print_log2_hist(..., slots="bcc") (the default) for hist_slot_bcc().
 *
 * `skelgen compile` puts this header on the include path:
 *     #include <skelgen/hist.bpf.h>
 */
#ifndef __SKELGEN_HIST_BPF_H
#define __SKELGEN_HIST_BPF_H

/* Slots a 64-bit value can fall in: 64 (libbpf-tools), 65 (bcc). */
#define HIST_SLOTS_MAX 64
#define HIST_SLOTS_MAX_BCC 65

/* floor(log2(v)) of a 32-bit value, 0 for 0 (branch-free, as bits.bpf.h). */
static __always_inline __u64 hist_log2(__u32 v)
{
	__u32 shift, r;

	r = (v > 0xFFFF) << 4; v >>= r;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

/* floor(log2(v)) of a 64-bit value, 0 for 0: libbpf-tools' log2l(). */
static __always_inline __u64 hist_log2l(__u64 v)
{
	__u32 hi = v >> 32;

	return hi ? hist_log2(hi) + 32 : hist_log2(v);
}

/* `slot`, or the last of `max_slots` slots beyond it, in assembly: whatever C says,
 * clang compares with the constant on the left (`if 8 > slot`), where verifiers
 * before 6.8 cannot tell a branch is never taken and reject the impossible path
 * they then follow; and it may compare an earlier value instead of the slot
 * (before 6.10 the verifier loses the range of an OR of two unknown registers and
 * rejects the index as unbounded).  Here the slot is compared with the bound in a
 * register (JLE: Linux 4.14+). */
static __always_inline __u32 hist_clamp(__u64 slot, __u32 max_slots)
{
	__u64 last = max_slots - 1;

	asm volatile("if %[slot] <= %[last] goto +1\n\t"
		     "%[slot] = %[last]"
		     : [slot] "+r"(slot)
		     : [last] "r"(last));
	return slot;
}

/* The slot of `v` in a histogram of `max_slots` slots, libbpf-tools'
 * convention (slot i holds 2^i .. 2^(i+1)-1; slot 0 also 0); values beyond the
 * last slot go into it. */
static __always_inline __u32 hist_slot(__u64 v, __u32 max_slots)
{
	return hist_clamp(hist_log2l(v), max_slots);
}

/* The same in bcc's convention (bpf_log2l(): one slot further; slot 0 stays
 * empty). */
static __always_inline __u32 hist_slot_bcc(__u64 v, __u32 max_slots)
{
	return hist_clamp(hist_log2l(v) + 1, max_slots);
}

/* Count one value into `slots`, an array of `max_slots` counters (a map
 * value or a global). */
#define hist_add(slots, max_slots, v)                                          \
	__sync_fetch_and_add(&(slots)[hist_slot((v), (max_slots))], 1)
#define hist_add_bcc(slots, max_slots, v)                                      \
	__sync_fetch_and_add(&(slots)[hist_slot_bcc((v), (max_slots))], 1)

#endif /* __SKELGEN_HIST_BPF_H */
