// SPDX-License-Identifier: GPL-2.0
/*
 * Layout corpus: bitfields and enums.
 *
 * Every type is reachable from a global variable or a BTF-defined map so
 * that clang keeps it in BTF.  Comments give the layout that the SysV
 * (x86_64 == BPF for these cases) rules produce; tests/oracle checks some.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Enums of every storage size, signed and unsigned. */
enum __attribute__((packed)) e_u8 { E_U8_A = 1, E_U8_B = 200 };     /* 1 byte */
enum __attribute__((packed)) e_s8 { E_S8_NEG = -100, E_S8_POS = 100 }; /* 1 byte, signed */
enum __attribute__((packed)) e_u16 { E_U16_A = 0x1234, E_U16_B = 0xfedc }; /* 2 bytes */
enum __attribute__((packed)) e_s16 { E_S16_NEG = -30000, E_S16_POS = 3 }; /* 2 bytes */
enum e_u32 { E_U32_A = 0, E_U32_B = 0xfffffff0u };                  /* 4 bytes */
enum e_s32 { E_S32_NEG = -5, E_S32_POS = 5 };                       /* 4 bytes */
/* Values above 2^32 make clang emit BTF_KIND_ENUM64. */
enum e_u64 { E_U64_A = 1, E_U64_BIG = 0x123456789abcdef0ULL };      /* 8 bytes */
enum e_s64 { E_S64_NEG = -0x100000000LL, E_S64_POS = 7 };           /* 8 bytes, signed */

/* 8 bytes although every value fits in 32 bits (GNU mode attribute). */
typedef enum { WIDE_SMALL_A = 1, WIDE_SMALL_B = -2 } __attribute__((mode(DI))) wide_small_t;

/* Anonymous enum reachable only through a typedef. */
typedef enum { ANON_E_X = 3, ANON_E_Y = 4 } anon_enum_t;

struct bf_basic {
	unsigned char a : 3;  /* bits 0..2 */
	unsigned char b : 7;  /* does not fit in byte 0: bits 8..14 */
	unsigned short c : 9; /* would straddle a short unit at bit 15: bits 16..24 */
	signed int s : 5;     /* signed: bits 25..29 */
	int tail;             /* offset 4 */
};                            /* size 8 */

struct bf_u64 {
	unsigned long long lo : 30;  /* bits 0..29 */
	unsigned long long mid : 10; /* bits 30..39: crosses the 32-bit boundary */
	long long neg : 24;          /* bits 40..63, signed */
	unsigned long long top : 3;  /* new unit: bits 64..66 */
};                                   /* size 16, align 8 */

struct bf_zero_width {
	unsigned int a : 4; /* bits 0..3 */
	int : 0;            /* forces the next field to a new int unit */
	unsigned int b : 4; /* bits 32..35 */
	char c;             /* offset 5 */
	long : 0;           /* next field on an 8-byte boundary */
	unsigned char d : 2; /* bits 64..65 */
};                           /* size 12: unnamed fields do not raise the alignment */

struct bf_enum {
	enum e_u8 small : 4;    /* bits 0..3 */
	enum e_s32 sgn : 4;     /* bits 4..7 */
	/* 8-byte storage unit, crossing bit 32 (the kernel caps enum bitfields at 32 bits) */
	enum e_u64 wide : 30;   /* bits 8..37 */
	anon_enum_t anon : 3;   /* bits 38..40 */
	_Bool flag : 1;         /* bit 41 */
};                              /* size 8 */

/* Bitfields in a packed struct straddle storage units freely. */
struct __attribute__((packed)) bf_packed {
	unsigned char x;         /* offset 0 */
	unsigned int y : 20;     /* bits 8..27 */
	unsigned long long z : 40; /* bits 28..67 */
	unsigned short w;        /* offset 9 */
};                               /* size 11, align 1 */

/* Bitfields inside anonymous members, reached through C11 flattening. */
struct bf_nested {
	int head;
	union {
		unsigned int whole;
		struct {
			unsigned int lo16 : 16;
			unsigned int hi15 : 15;
			unsigned int msb : 1;
		};
	};
	struct {
		short s1 : 3;
		short s2 : 13;
	} named;
};

struct enum_holder {
	enum e_u8 u8;   /* offset 0 */
	enum e_s8 s8;   /* offset 1 */
	enum e_u16 u16; /* offset 2 */
	enum e_s16 s16; /* offset 4 */
	enum e_u32 u32; /* offset 8 */
	enum e_s32 s32; /* offset 12 */
	enum e_u64 u64; /* offset 16 */
	enum e_s64 s64; /* offset 24 */
	anon_enum_t anon; /* offset 32 */
};                      /* size 40 */

/* .bss */
struct bf_basic bf_bss;
struct bf_zero_width bf_zw_bss;
enum e_u8 enum_u8_bss;

/* .data */
struct bf_u64 bf_data = { .lo = 0x2aaaaaaa, .mid = 0x155, .neg = -2, .top = 5 };
struct bf_enum bf_enum_data = {
	.small = E_U8_A, .sgn = E_S32_NEG, .wide = 0x2bcdef01, .anon = ANON_E_Y, .flag = 1,
};
enum e_s64 enum_s64_data = E_S64_NEG;
wide_small_t wide_small_data = WIDE_SMALL_B;

/* .rodata */
const struct enum_holder enums_ro = {
	E_U8_B, E_S8_NEG, E_U16_B, E_S16_NEG, E_U32_B, E_S32_NEG, E_U64_BIG, E_S64_NEG, ANON_E_X,
};
const enum e_u16 enum_u16_ro = E_U16_A;

/* Custom sections. */
struct bf_packed bf_packed_custom SEC(".data.custom") = { .x = 0x11, .y = 0xabcde, .z = 0x123456789aULL, .w = 0x2222 };
const struct bf_nested bf_nested_ro_custom SEC(".rodata.custom") = {
	.head = 0x33, .lo16 = 0xbeef, .hi15 = 0x1234, .msb = 1, .named = { .s1 = -1, .s2 = 77 },
};
enum e_s16 enum_s16_custom SEC(".data.custom") = E_S16_NEG;

/* Maps with bitfield/enum keys and values. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct bf_basic);
	__type(value, struct bf_u64);
	__uint(max_entries, 4);
} bf_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, enum e_s16);
	__type(value, struct enum_holder);
	__uint(max_entries, 4);
} enum_map SEC(".maps");

/* Reads one byte of a global through a volatile pointer so it is referenced. */
#define TOUCH(var) (sum += *(volatile const unsigned char *)&(var))

SEC("syscall")
int prog(void *ctx)
{
	unsigned int sum = 0;
	struct bf_basic key = {};
	enum e_s16 ekey = E_S16_POS;

	TOUCH(bf_bss);
	TOUCH(bf_zw_bss);
	TOUCH(enum_u8_bss);
	TOUCH(bf_data);
	TOUCH(bf_enum_data);
	TOUCH(enum_s64_data);
	TOUCH(wide_small_data);
	TOUCH(enums_ro);
	TOUCH(enum_u16_ro);
	TOUCH(bf_packed_custom);
	TOUCH(bf_nested_ro_custom);
	TOUCH(enum_s16_custom);
	if (bpf_map_lookup_elem(&bf_map, &key))
		sum++;
	if (bpf_map_lookup_elem(&enum_map, &ekey))
		sum++;
	bf_bss.tail = sum + (ctx != 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
