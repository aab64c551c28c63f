// SPDX-License-Identifier: GPL-2.0
/*
 * Layout corpus: names, typedef chains, scalar kinds, pointers, qualifiers.
 *
 * Every type is reachable from a global variable, a BTF-defined map or a
 * CO-RE type relocation so that clang keeps it in BTF.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* Member names that are Python keywords, builtins or ctypes internals. */
struct keywords {
	int class;                     /* offset 0 */
	int from;
	int None;
	int True;
	int False;
	int def;
	int lambda;
	int import;
	int yield;
	int async;
	int await;
	int self;
	int _fields_;
	int _pack_;
	int _align_;
	int _anonymous_;
	int _layout_;
	int _type_;
	int _length_;
	int _objects;
	int _b_base_;
	int _b_needsfree_;
	int from_buffer;
	int from_buffer_copy;
	int from_address;
	int in_dll;
	int value;
	int contents;
	int size;
	int offset;
	int __init__;
	int __class__;
	int __dict__;
	int mro;                       /* offset 132 */
};                                     /* size 136 */

/* Type names that shadow Python/ctypes names. */
struct Structure {
	long c_int;                    /* offset 0 */
	char c_char;                   /* offset 8 */
};
union Union {
	int int_;
	float float_;
};
typedef unsigned int c_uint;           /* same spelling as ctypes.c_uint */
typedef struct Structure ctypes;

/*
 * Tag/ordinary-identifier collisions that are legal C: struct tags,
 * typedef names, members and variables live in different namespaces.
 */
struct dup {
	int dup;                       /* member named like its own tag */
	long other;
};
typedef union dup_u {
	char bytes[3];
	short s;
} dup;                                 /* typedef `dup` != `struct dup` */
enum dup2 { DUP2_A = 1, DUP2_B = 2 };
typedef struct dup dup2;               /* typedef `dup2` != `enum dup2` */

struct collide {
	struct dup dup;                /* offset 0 */
	dup dupt;                      /* offset 16: the union typedef */
	enum dup2 e;                   /* offset 20 */
	dup2 d2;                       /* offset 24: the struct typedef */
	ctypes ct;                     /* offset 40 */
	union Union un;                /* offset 56 */
	c_uint cu;                     /* offset 60 */
};                                     /* size 64 */

/* Typedef chains, to a named and to an anonymous struct. */
struct base {
	int x;
	char y;
};
typedef struct base base_t;
typedef base_t base2_t;
typedef base2_t base3_t;
typedef const base3_t cbase_t;        /* qualified link in the chain */
typedef struct {
	short s;
	long l;
} anon_t;                              /* size 16 */
typedef anon_t anon2_t;
typedef anon2_t anon3_t;

struct chains {
	base3_t b3;                    /* offset 0 */
	cbase_t cb;                    /* offset 8 */
	anon3_t a3;                    /* offset 16 */
	base_t arr[2];                 /* offset 32 */
};                                     /* size 48 */

/* Scalars of every kind. */
struct scalars {
	bool b;                        /* offset 0 */
	_Bool b2;                      /* offset 1 */
	char ch;                       /* offset 2 */
	signed char sc;                /* offset 3 */
	unsigned char uc;              /* offset 4 */
	short sh;                      /* offset 6 */
	unsigned short ush;            /* offset 8 */
	int i;                         /* offset 12 */
	unsigned int ui;               /* offset 16 */
	long lo;                       /* offset 24 */
	unsigned long ul;              /* offset 32 */
	long long ll;                  /* offset 40 */
	unsigned long long ull;        /* offset 48 */
	float f;                       /* offset 56 */
	double d;                      /* offset 64 */
	__u8 u8;                       /* offset 72 */
	__s16 s16;                     /* offset 74 */
	__u32 u32;                     /* offset 76 */
	__s64 s64;                     /* offset 80 */
	unsigned __int128 u128;        /* offset 96: 16-byte aligned */
	char name[16];                 /* offset 112 */
	unsigned char raw[3][5];       /* offset 128 */
};                                     /* size 144, align 16 */

/* Pointers of every shape: 8 bytes each on BPF and x86_64. */
struct pointers {
	struct base *to_struct;        /* offset 0 */
	void (*cb)(int);               /* offset 8 */
	int (*cbs[2])(void *, long);   /* offset 16: array of function pointers */
	void *opaque;                  /* offset 32 */
	const char *str;               /* offset 40 */
	int **pp;                      /* offset 48 */
	int (*to_array)[4];            /* offset 56 */
	struct opaque_fwd *fwd;        /* offset 64: never defined */
	struct pointers *self;         /* offset 72 */
};                                     /* size 80 */

/* Qualified members. */
struct qualified {
	const int ci;                  /* offset 0 */
	volatile long vl;              /* offset 8 */
	const volatile short cvs;      /* offset 16 */
	int *const cp;                 /* offset 24 */
	const char carr[3];            /* offset 32 */
	volatile unsigned int vbits : 5;  /* bits 280..284 */
	const int cbits : 7;           /* no room left in the int unit: bits 288..294 */
};                                     /* size 40 */

/* .bss */
struct keywords keywords_bss;
struct pointers pointers_bss;
struct qualified qualified_bss;
/* Variables named like Python keywords and like type tags. */
int lambda;
struct dup dup_var;

/* .data */
struct scalars scalars_data = {
	.b = true, .b2 = 1, .ch = 'A', .sc = -2, .uc = 0xfe, .sh = -3, .ush = 0xfffd,
	.i = -4, .ui = 0xfffffffc, .lo = -5, .ul = 0xfffffffffffffffbUL,
	.ll = -6, .ull = 0x1122334455667788ULL, .f = 1.5f, .d = -2.25,
	.u8 = 0x81, .s16 = -7, .u32 = 0xdeadbeef, .s64 = -8, .u128 = 0x99,
	.name = "skelgen", .raw = { { 1, 2, 3, 4, 5 }, { 6 } },
};
double double_data = 3.5;
float float_data = -0.75f;
bool bool_data = true;
char str_data[8] = "hello";

/* .rodata */
const struct collide collide_ro = {
	.dup = { .dup = 1, .other = 2 }, .dupt = { .s = 3 }, .e = DUP2_B,
	.d2 = { .dup = 4, .other = 5 }, .ct = { .c_int = 6, .c_char = 7 },
	.un = { .int_ = 8 }, .cu = 9,
};
const cbase_t cbase_ro = { .x = 0x10, .y = 0x20 };
const char greeting_ro[] = "hi there";

/* Custom sections. */
struct chains chains_custom SEC(".data.custom") = {
	.b3 = { 1, 2 }, .cb = { 3, 4 }, .a3 = { 5, 6 }, .arr = { { 7, 8 }, { 9, 10 } },
};
anon3_t anon_custom SEC(".data.custom") = { .s = 0x1111, .l = 0x2222 };
const struct Structure structure_ro_custom SEC(".rodata.custom") = { .c_int = 42, .c_char = 'z' };
const dup dup_ro_custom SEC(".rodata.custom") = { .bytes = { 'a', 'b', 'c' } };

/* Maps keyed and valued by the collision types. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, dup2);
	__type(value, struct keywords);
	__uint(max_entries, 2);
} dup_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, c_uint);
	__type(value, anon3_t);
	__uint(max_entries, 2);
} anon_map SEC(".maps");

/* Reads one byte of a global through a volatile pointer so it is referenced. */
#define TOUCH(var) (sum += *(volatile const unsigned char *)&(var))

SEC("syscall")
int prog(void *ctx)
{
	/*
	 * A block-scope tag may shadow a file-scope one, so `union dup` can
	 * coexist with `struct dup` in one translation unit.  The CO-RE
	 * type-exists relocation puts it into BTF and resolves to 0 at load.
	 */
	union dup {
		long l;
		char c;
	};
	unsigned int sum = 0;
	dup2 key = {};
	c_uint akey = 0;

	TOUCH(keywords_bss);
	TOUCH(pointers_bss);
	TOUCH(qualified_bss);
	TOUCH(lambda);
	TOUCH(dup_var);
	TOUCH(scalars_data);
	TOUCH(double_data);
	TOUCH(float_data);
	TOUCH(bool_data);
	TOUCH(str_data);
	TOUCH(collide_ro);
	TOUCH(cbase_ro);
	TOUCH(greeting_ro);
	TOUCH(chains_custom);
	TOUCH(anon_custom);
	TOUCH(structure_ro_custom);
	TOUCH(dup_ro_custom);
	if (bpf_map_lookup_elem(&dup_map, &key))
		sum++;
	if (bpf_map_lookup_elem(&anon_map, &akey))
		sum++;
	sum += bpf_core_type_exists(union dup);
	lambda = sum + (ctx != 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
