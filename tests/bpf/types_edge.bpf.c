// SPDX-License-Identifier: GPL-2.0
/*
 * Layout and naming corpus: the names a generated class body itself uses,
 * typedefs of every kind of target, and layout corner cases.
 *
 * Every type is reachable from a global variable or a BTF-defined map so
 * that clang keeps it in BTF; comments give the expected layout.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct point {
	int x;
	int y;
};

/* Members named like what a class body looks up. */
struct shadows {
	struct point point;            /* named like its type; another member names it too */
	struct point other;
	char bytes;                    /* `bytes` is the annotation of `text` */
	char text[4];
	int CArray;                    /* `CArray` is the annotation of `arr` */
	int arr[2];
	int ctypes;                    /* _fields_ says ctypes.c_int32 */
	int array;                     /* _fields_ says array(...) */
	unsigned int BitField : 3;     /* a bitfield named like the descriptor */
	unsigned int after : 5;
	int check_sizes;
	int _pad0;                     /* named like generated padding */
	int _anon0;
	int _size;
	int __pad;
};

/* Only this member names its type: it keeps the C name. */
struct self_named {
	char c;
	struct point point;            /* offset 4 */
};

/* Names flattened from anonymous members, against the parent's own names. */
struct flat_clash {
	union {
		struct point pt;       /* its annotation names `point`... */
		int class;             /* flattened as class_ */
	};
	int class_;                    /* offset 8: must not become class_ too */
	struct {
		int point;             /* ...a flattened int named `point` */
		short _pad0;           /* ctypes flattens private names as well */
	};
	char tail;                     /* offset 18 */
};                                     /* size 20 */

/* Type names the generated module binds itself. */
struct list { int list; };
struct CArray { char c; };
struct check_sizes { short s; };
struct TypesEdgeBpfBss { int clash; }; /* the class name of .bss */

/* Enumerators named like IntEnum attributes, keywords, or alike once sanitised. */
enum edge_e {
	real = 1,
	name = 2,
	value = 3,
	None = 4,
	_hidden = 5,
	v_hidden = 6,
	bit_length = 7,
};

/* Typedefs of every kind of target. */
typedef int arr4_t[4];
typedef arr4_t arr4x2_t[2];            /* array of a typedef'd array */
typedef void *vptr_t;
typedef int (*fnptr_t)(int);
typedef int fnproto_t(int);            /* a function type */
typedef void void_t;
typedef enum edge_e edge_e_t;          /* names the IntEnum companion */
typedef edge_e_t edge_e2_t;
typedef enum { ANON_A = 1, ANON_B = -1 } anon_e_t;
typedef const volatile struct point cvpoint_t;
typedef struct { int a; } twice_a_t, twice_b_t; /* two names, one type */
typedef unsigned __int128 u128_t;
typedef char name_t[8];

struct typedefs {
	arr4_t a4;                     /* offset 0 */
	arr4x2_t a4x2;                 /* offset 16 */
	vptr_t vp;                     /* offset 48 */
	fnptr_t fp;                    /* offset 56 */
	fnproto_t *fpp;                /* offset 64 */
	void_t *voidp;                 /* offset 72 */
	edge_e_t e;                    /* offset 80 */
	edge_e2_t e2;                  /* offset 84 */
	anon_e_t ae;                   /* offset 88 */
	cvpoint_t cvp;                 /* offset 92 */
	twice_a_t ta;                  /* offset 100 */
	twice_b_t tb;                  /* offset 104 */
	u128_t big;                    /* offset 112 */
	name_t names[2];               /* offset 128: a 2-D char array */
	edge_e_t ebits : 3;            /* bits 1152..1154 */
};                                     /* size 160 */

/*
 * Unions: packed, with bitfields (larger than their one whole-byte member).
 * (An aligned(N) union is left out: bpftool's header loses its size, so gcc
 * cannot be asked about it; tests/generator/test_hostile_btf.py covers it.)
 */
union __attribute__((packed)) pk_union {
	char c;
	long l;
};                                     /* size 8, align 1 */

union bits_union {
	unsigned int a : 3;
	int b : 7;
	unsigned char c;
};                                     /* size 4 */

/* Structs: empty, trailing bits, arrays of bitfield structs, deep nesting. */
struct empty {};
struct has_empty {
	int a;
	struct empty e;                /* offset 4, size 0 */
	int b;                         /* offset 4 */
};

struct trailing_bits {
	long l;
	unsigned char a : 1;           /* bit 64 */
};                                     /* size 16 */

struct bits16 {
	unsigned short a : 5, b : 11;
};

struct arr_of_bits {
	char c;
	struct bits16 e[3];            /* offset 2 */
};

struct deep {
	char c;
	struct {
		union {
			struct {
				int x : 4;
				int y : 28;
			};
			long z;
		};
		char w;
	} lvl1[2];                     /* offset 8, element size 16 */
};

struct __attribute__((aligned(16))) al16 {
	char c;
};

struct al_array {
	char c;
	struct al16 a[2];              /* offset 16 */
	char tail;                     /* offset 48 */
};                                     /* size 64 */

/* .bss */
struct shadows shadows_bss;
struct self_named self_named_bss;
struct flat_clash flat_clash_bss;
struct typedefs typedefs_bss;
struct TypesEdgeBpfBss clash_bss;
struct {
	int a;
	union {
		int b;
		float f;
	};
} anon_bss;
struct {
	char c;
	struct point p;
} anon_arr_bss[2];
char chars_2d[3][5];

/* .data */
struct list list_data = { 1 };
struct CArray carray_data = { 'c' };
struct check_sizes check_sizes_data = { 2 };
union pk_union pk_union_data = { .c = 1 };
union bits_union bits_union_data = { .c = 2 };
struct has_empty has_empty_data = { 3, {}, 4 };
struct trailing_bits trailing_data = { .l = 5 };
struct arr_of_bits arr_of_bits_data = { .c = 6 };
struct deep deep_data = { .c = 7 };
struct al_array al_array_data = { .c = 8 };
enum edge_e edge_data = bit_length;

/* Maps keyed and valued by these. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, edge_e2_t);
	__type(value, struct flat_clash);
	__uint(max_entries, 2);
} edge_map SEC(".maps");

/* An anonymous value type: its class is named after the map. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, struct { int hits; char tag[3]; });
	__uint(max_entries, 1);
} anon_value_map SEC(".maps");

#define TOUCH(var) (sum += *(volatile const unsigned char *)&(var))

SEC("syscall")
int prog(void *ctx)
{
	unsigned int sum = 0;
	edge_e2_t key = real;

	TOUCH(shadows_bss);
	TOUCH(self_named_bss);
	TOUCH(flat_clash_bss);
	TOUCH(typedefs_bss);
	TOUCH(clash_bss);
	TOUCH(anon_bss);
	TOUCH(anon_arr_bss);
	TOUCH(chars_2d);
	TOUCH(list_data);
	TOUCH(carray_data);
	TOUCH(check_sizes_data);
	TOUCH(pk_union_data);
	TOUCH(bits_union_data);
	TOUCH(has_empty_data);
	TOUCH(trailing_data);
	TOUCH(arr_of_bits_data);
	TOUCH(deep_data);
	TOUCH(al_array_data);
	TOUCH(edge_data);
	if (bpf_map_lookup_elem(&edge_map, &key))
		sum++;
	if (bpf_map_lookup_elem(&anon_value_map, &sum))
		sum++;
	anon_bss.a = sum + (ctx != 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
