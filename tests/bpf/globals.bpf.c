// SPDX-License-Identifier: GPL-2.0
// Globals of many shapes in every kind of data section, subprograms (static,
// global, a bpf_loop callback) and string literals: the first vertical slice.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair {
	int a;
	long long b;
};

struct cfg {
	unsigned short port;
	char tag[6];
	struct pair limits[2];
};

/* .rodata: set from Python before load */
const volatile int multiplier = 3;
const volatile struct cfg config = { .port = 80, .tag = "abc", .limits = { { 1, 2 }, { 3, 4 } } };

/* .data: initialised, read and written from both sides */
long long seeded = 42;
char greeting[8] = "hello";
struct pair pair_init = { 7, -8 };

/* .bss: zeroed, written by the program */
int counter;
struct pair last;
unsigned char bytes_out[5];
long long loop_sum;
int strcmp_result = -1;
unsigned short port_seen;
char tag_seen[6];
long long limit_sum;

/* custom sections */
int custom_value SEC(".data.custom") = 7;
const volatile int custom_ro SEC(".rodata.custom") = 9;

/* static: kept out of the skeleton, as bpftool does */
static int hidden = 5;

static __noinline int scale(int x)
{
	return x * multiplier + hidden;
}

__noinline int global_add(int a, int b)
{
	return a + b;
}

static long sum_cb(__u32 index, void *ctx)
{
	*(long long *)ctx += index;
	return 0;
}

/* raw_tp programs run with test_run() (5.10+); everything here loads on 5.10 */
SEC("raw_tp")
int run_all(void *ctx)
{
	int i;

	counter = global_add(scale(seeded), custom_value + custom_ro);
	last.a = pair_init.a * 2;
	last.b = pair_init.b * 2;
	for (i = 0; i < 5; i++)
		bytes_out[i] = i * 11;
	port_seen = config.port;
	__builtin_memcpy(tag_seen, (const void *)config.tag, sizeof(tag_seen));
	limit_sum = config.limits[0].a + config.limits[0].b + config.limits[1].a + config.limits[1].b;
	seeded += 1;
	return counter;
}

/* bpf_loop() and bpf_strncmp() (5.17): "?" leaves the program out of the load unless
 * it is asked for, so that the object loads on kernels without them. */
SEC("?raw_tp")
int run_helpers(void *ctx)
{
	long long total = 0;

	bpf_loop(10, sum_cb, &total, 0);
	loop_sum = total;
	strcmp_result = bpf_strncmp(greeting, sizeof(greeting), "hello");
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
