// SPDX-License-Identifier: GPL-2.0
/*
 * Layout corpus: anonymous members, packing, alignment, arrays.
 *
 * Every type is reachable from a global variable or a BTF-defined map so
 * that clang keeps it in BTF.  Comments give the expected layout; the
 * tests in tests/oracle verify some of them against the gcc oracle.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Anonymous unions and structs nested in each other. */
struct cell {
	int tag;                       /* offset 0 */
	union {                        /* offset 8 (long inside), size 8 */
		int i;
		struct {               /* anonymous struct inside anonymous union */
			short lo;      /* offset 8 */
			short hi;      /* offset 10 */
		};
		union {                /* anonymous union inside anonymous union */
			char c[4];
			unsigned char uc;
		};
		long l;
	};
	struct {
		char k;                /* offset 16 */
		union {
			int deep;      /* offset 20 */
			float deepf;
		};
	} named;                       /* offset 16, size 8 */
};                                     /* size 24, align 8 */

/* Structs with anonymous unions, inside arrays, inside structs. */
struct grid {
	char label[5];                 /* offset 0 */
	struct cell cells[3];          /* offset 8, 3 * 24 */
	struct {                       /* array of an anonymous struct type */
		short x;
		union {
			int as_int;
			unsigned char as_bytes[4];
		};
	} pts[2];                      /* offset 80, element size 8 */
	int cube[2][3][4];             /* 3-D array: offset 96, size 96 */
	struct cell cells3d[2][1][2];  /* offset 192 */
};                                     /* size 288 */

union variant {
	struct {                       /* anonymous struct inside a union */
		int a;                 /* offset 0 */
		int b;                 /* offset 4 */
	};
	struct {
		long c;
	} named;
	unsigned long long raw;
	unsigned char bytes[12];
};                                     /* size 16, align 8 */

struct __attribute__((packed)) pk {
	char c;                        /* offset 0 */
	int i;                         /* offset 1 */
	long l;                        /* offset 5 */
	short s;                       /* offset 13 */
};                                     /* size 15, align 1 */

struct al_member {
	char c;                        /* offset 0 */
	int x __attribute__((aligned(16))); /* offset 16 */
	char d;                        /* offset 20 */
};                                     /* size 32, align 16 */

struct __attribute__((aligned(32))) al_type {
	int a;
	char b;
};                                     /* size 32, align 32 */

struct al_outer {
	char c;                        /* offset 0 */
	struct al_type t;              /* offset 32 */
	long l __attribute__((aligned(32))); /* offset 64 */
	char tail;                     /* offset 72 */
};                                     /* size 96, align 32 */

/* A packed struct containing aligned ones: packing wins over type alignment. */
struct __attribute__((packed)) pk_has_al {
	char c;                        /* offset 0 */
	struct al_member m;            /* offset 1 */
	struct al_type t;              /* offset 33 */
	char d;                        /* offset 65 */
};                                     /* size 66, align 1 */

/* ... but an explicit aligned() on a member of a packed struct is honoured. */
struct __attribute__((packed)) pk_al_member {
	char c;                        /* offset 0 */
	int x __attribute__((aligned(8))); /* offset 8 */
	short y;                       /* offset 12 */
};                                     /* size 16, align 8 */

/* An aligned struct containing a packed one. */
struct __attribute__((aligned(16))) al_has_pk {
	char c;                        /* offset 0 */
	struct pk p;                   /* offset 1 */
	char tail;                     /* offset 16 */
};                                     /* size 32, align 16 */

/* Packed and aligned on the same type. */
struct __attribute__((packed, aligned(4))) pk_and_al {
	char c;                        /* offset 0 */
	long l;                        /* offset 1 */
};                                     /* size 12, align 4 */

/* Flexible array member. */
struct fam {
	int n;                         /* offset 0 */
	short hdr;                     /* offset 4 */
	long items[];                  /* offset 8 */
};                                     /* size 8 */

/* GNU zero-length arrays, also in the middle. */
struct zla {
	int a;                         /* offset 0 */
	char mid[0];                   /* offset 4 */
	int b;                         /* offset 4 */
	long tail[0];                  /* offset 8 */
};                                     /* size 8, align 8 */

struct fam_wrapper {
	int before;                    /* offset 0 */
	struct zla z;                  /* offset 8 */
	struct fam f;                  /* offset 16: FAM struct as last member (GNU) */
};                                     /* size 24 */

/* .bss */
struct grid grid_bss;
struct al_outer al_outer_bss;
struct zla zla_bss;
int aligned_var_bss __attribute__((aligned(64)));

/* .data */
struct cell cell_data = { .tag = 0x11, .lo = 0x2222, .hi = 0x3333, .named = { .k = 'k', .deep = 0x4444 } };
union variant variant_data = { .a = 0x55555555, .b = 0x66666666 };
struct pk pk_data = { .c = 'p', .i = 0x01020304, .l = 0x1122334455667788L, .s = 0x7788 };
struct fam fam_data = { .n = 3, .hdr = 0x99 };
char pad_before_aligned_data = 'x';
struct al_type al_type_data = { .a = 0x0a0b0c0d, .b = 'b' };

/* .rodata */
const struct pk_has_al pk_has_al_ro = { .c = 'c', .m = { .c = 1, .x = 2, .d = 3 }, .t = { .a = 4, .b = 5 }, .d = 'd' };
const struct al_has_pk al_has_pk_ro = { .c = 'c', .p = { .c = 1, .i = 2, .l = 3, .s = 4 }, .tail = 't' };
const int cube_ro[2][3][4] = { { { 1, 2, 3, 4 } }, { { 5 }, { 6 } } };

/* Custom sections. */
struct pk_al_member pk_al_member_custom SEC(".data.custom") = { .c = 'c', .x = 0x1234, .y = 0x56 };
struct fam_wrapper fam_wrapper_custom SEC(".data.custom") = { .before = 7, .z = { .a = 1, .b = 2 }, .f = { .n = 0 } };
const struct al_member al_member_ro_custom SEC(".rodata.custom") = { .c = 1, .x = 0x77777777, .d = 2 };
const struct pk_and_al pk_and_al_ro_custom SEC(".rodata.custom") = { .c = 'q', .l = -1 };

/* Maps with these as keys and values. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct pk);
	__type(value, struct fam);
	__uint(max_entries, 8);
} fam_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, union variant);
	__type(value, struct al_has_pk);
	__uint(max_entries, 8);
} variant_map SEC(".maps");

/* Reads one byte of a global through a volatile pointer so it is referenced. */
#define TOUCH(var) (sum += *(volatile const unsigned char *)&(var))

SEC("syscall")
int prog(void *ctx)
{
	unsigned int sum = 0;
	struct pk key = {};
	union variant vkey = {};

	TOUCH(grid_bss);
	TOUCH(al_outer_bss);
	TOUCH(zla_bss);
	TOUCH(aligned_var_bss);
	TOUCH(cell_data);
	TOUCH(variant_data);
	TOUCH(pk_data);
	TOUCH(fam_data);
	TOUCH(pad_before_aligned_data);
	TOUCH(al_type_data);
	TOUCH(pk_has_al_ro);
	TOUCH(al_has_pk_ro);
	TOUCH(cube_ro);
	TOUCH(pk_al_member_custom);
	TOUCH(fam_wrapper_custom);
	TOUCH(al_member_ro_custom);
	TOUCH(pk_and_al_ro_custom);
	if (bpf_map_lookup_elem(&fam_map, &key))
		sum++;
	if (bpf_map_lookup_elem(&variant_map, &vkey))
		sum++;
	grid_bss.cube[1][2][3] = sum + (ctx != 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
