// SPDX-License-Identifier: GPL-2.0
/*
 * Value round trip through every shape of global.
 *
 * `fill` stores each value of RW_VALUES into its field (and sends one typed
 * ring buffer event); `check` compares every field of RW_VALUES and
 * RO_VALUES with its value, counts the comparisons in `checks` and puts the
 * number of the first mismatch (1-based, in list order) into `bad`.
 * tests/generator/test_values_roundtrip.py reads what `fill` wrote through
 * the generated skeleton, then writes the same values for `check`; its
 * table of values must agree with the lists below.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum __attribute__((packed)) v_u8 { V_U8_A = 0x12, V_U8_B = 0xf1 };
enum __attribute__((packed)) v_s16 { V_S16_NEG = -1234, V_S16_POS = 7 };
enum v_u32 { V_U32_BIG = 0xfedcba98u };
enum v_s64 { V_S64_NEG = -0x123456789LL, V_S64_POS = 1 };
typedef enum v_s16 v_s16_t;

struct scalars {
	bool flag;
	char ch;
	signed char sc;
	unsigned char uc;
	short sh;
	unsigned short ush;
	int i;
	unsigned int ui;
	long l;
	unsigned long ul;
	float f;
	double d;
	void *ptr;
	char name[6];
	char names[2][4];
	enum v_u8 e8;
	v_s16_t e16;
	enum v_u32 e32;
	enum v_s64 e64;
	unsigned __int128 wide;
};

struct bits {
	unsigned int a : 3;
	int neg : 5;
	unsigned int cross : 12;      /* straddles bytes 1 and 2 */
	long long wide : 33;          /* signed, straddles the 32-bit boundary */
	unsigned long long top : 11;
	v_s16_t se : 12;              /* signed enum bitfield */
	bool flag : 1;
};

/* Bitfields of a packed struct straddle storage units. */
struct __attribute__((packed)) packed_bits {
	char c;
	unsigned int x : 20;
	long long y : 40;
	short tail;
};

/* Nested anonymous unions in structs in arrays. */
struct cell {
	short tag;
	union {
		int as_int;
		struct {
			unsigned char lo : 4, hi : 4;
			unsigned char mid;
			short top;
		};
		union {
			float fl;
			unsigned char raw[4];
		};
	};
};

struct grid {
	char label[3];
	struct cell cells[3];
	int cube[2][3][4];
	struct {
		int x;
		union {
			short y;
			char yc[2];
		};
	} pts[2];
};
typedef struct grid grid_t;
typedef grid_t grid2_t;

struct __attribute__((aligned(16))) al16 {
	char c;
};

/* Packing wins over a member type's alignment, not over a member's aligned(). */
struct __attribute__((packed)) mixed {
	char c;
	int i;
	struct al16 a;
	long l __attribute__((aligned(8)));
};

struct event {
	int pid;
	char comm[8];
	long long ts;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
	__type(value, struct event);
} events SEC(".maps");

/* Maps keyed, valued and fed by a char array: bytes in Python (check_maps). */
typedef char comm_t[16];

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, comm_t);
} comms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, comm_t);
	__type(value, __u32);
} by_comm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
	__type(value, comm_t);
} comm_events SEC(".maps");

/* .bss */
struct scalars scalars_bss;
struct bits bits_bss;
grid2_t grid_bss;
int checks, bad;

/* .data */
struct packed_bits packed_data = { .c = 1 };
struct mixed mixed_data = { .c = 1 };
struct {
	int n;
	struct bits b[2];
} anon_data = { .n = 1 };

/* .data.custom */
struct bits bits_custom[2] SEC(".data.custom");

/* .rodata: initial values read by Python at open; Python sets the rest before load. */
const volatile struct scalars scalars_ro = { .i = 7, .name = "ro" };
const volatile struct bits bits_ro = { .neg = -3, .cross = 0x321 };

/* Floats and 128-bit integers are compared by their bits: BPF has no FPU. */
#define U32_OF(v) (*(volatile __u32 *)&(v))
#define U64_OF(v) (*(volatile __u64 *)&(v))
#define U64_AT(v, i) (((volatile __u64 *)&(v))[i])
#define RO_U32_OF(v) (*(const volatile __u32 *)&(v))
#define RO_U64_OF(v) (*(const volatile __u64 *)&(v))
#define RO_U64_AT(v, i) (((const volatile __u64 *)&(v))[i])

#define BITS_VALUES(X, s)                               \
	X(s.a, 5)                                       \
	X(s.neg, -11)                                   \
	X(s.cross, 0xabc)                               \
	X(s.wide, -0xfedcba98LL)                        \
	X(s.top, 0x5a5)                                 \
	X(s.se, V_S16_NEG)                              \
	X(s.flag, 1)

#define RW_VALUES(X)                                    \
	X(scalars_bss.flag, true)                       \
	X(scalars_bss.ch, 'Q')                          \
	X(scalars_bss.sc, -100)                         \
	X(scalars_bss.uc, 0xc8)                         \
	X(scalars_bss.sh, -30000)                       \
	X(scalars_bss.ush, 0xfedc)                      \
	X(scalars_bss.i, -2000000000)                   \
	X(scalars_bss.ui, 0xf0e0d0c0)                   \
	X(scalars_bss.l, -0x123456789abcdefLL)          \
	X(scalars_bss.ul, 0xfedcba9876543210ULL)        \
	X(U32_OF(scalars_bss.f), 0x3fc00000)            \
	X(U64_OF(scalars_bss.d), 0xc002000000000000ULL) \
	X(scalars_bss.ptr, (void *)0x1122334455667788)  \
	X(scalars_bss.name[0], 's')                     \
	X(scalars_bss.name[1], 'k')                     \
	X(scalars_bss.name[2], 'e')                     \
	X(scalars_bss.name[3], 'l')                     \
	X(scalars_bss.name[4], 0)                       \
	X(scalars_bss.names[0][0], 'a')                 \
	X(scalars_bss.names[0][1], 0)                   \
	X(scalars_bss.names[1][0], 'w')                 \
	X(scalars_bss.names[1][1], 'x')                 \
	X(scalars_bss.names[1][2], 'y')                 \
	X(scalars_bss.names[1][3], 'z')                 \
	X(scalars_bss.e8, V_U8_B)                       \
	X(scalars_bss.e16, V_S16_NEG)                   \
	X(scalars_bss.e32, V_U32_BIG)                   \
	X(scalars_bss.e64, V_S64_NEG)                   \
	X(U64_AT(scalars_bss.wide, 0), 0x0123456789abcdefULL) \
	X(U64_AT(scalars_bss.wide, 1), 0xfedcba9876543210ULL) \
	BITS_VALUES(X, bits_bss)                        \
	X(grid_bss.label[0], 'a')                       \
	X(grid_bss.label[1], 'b')                       \
	X(grid_bss.cells[0].tag, 1)                     \
	X(grid_bss.cells[0].as_int, 0x11223344)         \
	X(grid_bss.cells[1].tag, 2)                     \
	X(grid_bss.cells[1].lo, 0xa)                    \
	X(grid_bss.cells[1].hi, 0x5)                    \
	X(grid_bss.cells[1].mid, 0x77)                  \
	X(grid_bss.cells[1].top, -3)                    \
	X(grid_bss.cells[2].tag, -4)                    \
	X(grid_bss.cells[2].raw[0], 0xf1)               \
	X(grid_bss.cells[2].raw[3], 0xf4)               \
	X(grid_bss.cube[0][1][2], -5)                   \
	X(grid_bss.cube[1][2][3], 123456)               \
	X(grid_bss.pts[0].yc[1], 'y')                   \
	X(grid_bss.pts[1].x, 9)                         \
	X(grid_bss.pts[1].y, -7)                        \
	X(packed_data.c, 0x11)                          \
	X(packed_data.x, 0xabcde)                       \
	X(packed_data.y, -0x123456789aLL)               \
	X(packed_data.tail, -2)                         \
	X(mixed_data.c, 'm')                            \
	X(mixed_data.i, 0x01020304)                     \
	X(mixed_data.a.c, 'A')                          \
	X(mixed_data.l, -0x0102030405060708LL)          \
	X(anon_data.n, 3)                               \
	BITS_VALUES(X, anon_data.b[1])                  \
	X(anon_data.b[0].top, 0x7ff)                    \
	X(bits_custom[1].wide, 0xffffffffLL)            \
	X(bits_custom[1].a, 7)                          \
	X(bits_custom[0].neg, -16)

#define RO_VALUES(X)                                    \
	X(scalars_ro.flag, true)                        \
	X(scalars_ro.ch, 'R')                           \
	X(scalars_ro.sh, -1234)                         \
	X(scalars_ro.ul, 0x8000000000000001ULL)         \
	X(RO_U32_OF(scalars_ro.f), 0xbf400000)          \
	X(RO_U64_OF(scalars_ro.d), 0x400c000000000000ULL) \
	X(scalars_ro.name[0], 'r')                      \
	X(scalars_ro.name[1], 'o')                      \
	X(scalars_ro.name[2], '!')                      \
	X(scalars_ro.names[1][0], 'o')                  \
	X(scalars_ro.names[1][1], 'k')                  \
	X(scalars_ro.names[1][2], 0)                    \
	X(scalars_ro.e16, V_S16_POS)                    \
	X(scalars_ro.e64, V_S64_POS)                    \
	X(RO_U64_AT(scalars_ro.wide, 1), 0x8000000000000000ULL) \
	BITS_VALUES(X, bits_ro)

#define SET(field, value) field = value;
#define CHECK(field, value)                             \
	checks++;                                       \
	if ((field) != (value) && !bad)                 \
		bad = checks;

SEC("syscall")
int fill(void *ctx)
{
	struct event ev = { .pid = 42, .comm = "evt", .ts = -1 };
	__u64 comm[2]; /* a comm_t, "fill" */
	__u32 zero = 0, one = 1;

	/* Word by word: a 16-byte initialiser would make a .rodata.cst16 section. */
	comm[0] = 'f' | 'i' << 8 | 'l' << 16 | 'l' << 24;
	comm[1] = 0;

	RW_VALUES(SET)
	bpf_ringbuf_output(&events, &ev, sizeof(ev), 0);
	bpf_map_update_elem(&comms, &zero, comm, BPF_ANY);
	bpf_map_update_elem(&by_comm, comm, &one, BPF_ANY);
	bpf_ringbuf_output(&comm_events, comm, sizeof(comm), 0);
	return 0;
}

/* 0 when Python stored comms[1] = "py" and by_comm["py"] = 2, else which is wrong. */
SEC("syscall")
int check_maps(void *ctx)
{
	__u64 py[2], *stored; /* a comm_t, "py" */
	__u32 index = 1, *count;

	py[0] = 'p' | 'y' << 8;
	py[1] = 0;

	stored = bpf_map_lookup_elem(&comms, &index);
	if (!stored || stored[0] != py[0] || stored[1] != py[1])
		return 1;
	count = bpf_map_lookup_elem(&by_comm, py);
	if (!count || *count != 2)
		return 2;
	return 0;
}

SEC("syscall")
int check(void *ctx)
{
	checks = 0;
	bad = 0;
	RW_VALUES(CHECK)
	RO_VALUES(CHECK)
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
