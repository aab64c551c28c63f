// SPDX-License-Identifier: GPL-2.0
/*
 * Which types a skeleton emits: those reachable from a global or a map by
 * default, more with --type NAME or --all-types.  The parameter types of a
 * global function are in BTF but reachable from neither.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct used {
	int a;
};

struct event {
	int pid;
	char comm[16];
};

struct arg_only {
	long x;
	short y;
};

struct arg_other {
	char c;
};
typedef struct arg_other arg_other_t;

enum only_enum { ONLY_A = 1, ONLY_B = 2 };

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
	__type(value, struct event);
} events SEC(".maps");

struct used used_bss;

__noinline int sub(struct arg_only *p, arg_other_t *q, enum only_enum e)
{
	if (!p || !q)
		return 0;
	return p->x + q->c + e;
}

SEC("syscall")
int prog(void *ctx)
{
	struct arg_only a;
	arg_other_t o;
	struct event *e;

	/* Assignments, not initialisers: no .rodata.cst* section for the oracle. */
	a.x = used_bss.a;
	a.y = 0;
	o.c = 2;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		e->pid = sub(&a, &o, ONLY_B);
		bpf_ringbuf_submit(e, 0);
	}
	return used_bss.a;
}

char LICENSE[] SEC("license") = "GPL";
