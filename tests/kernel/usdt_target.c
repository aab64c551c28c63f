// A USDT target for the attach tests, built with <sys/sdt.h>.  Every line read from
// stdin fires each probe once; the reply line is the "guarded" probe's semaphore
// value at that moment (the kernel raises it while a uprobe with its ref_ctr_offset
// is attached).
//
// skelgen:exact writes its argument locations itself (STAP_PROBE_ASM), so that every
// operand form usdt.bpf.h reads is present whatever the compiler does: registers of
// each width holding garbage above the argument, constants, memory at a register
// plus a positive, zero or negative offset.  skelgen:natural lets gcc choose.
// skelgen:multi has three sites, two sharing one argument string.  skelgen:sib and
// skelgen:symbolic carry operands the installed usdt.bpf.h cannot read.
#define _SDT_HAS_SEMAPHORES 1
#include <stdio.h>
#include <stdlib.h>
#include <sys/sdt.h>

#define SEMAPHORE(name)                                                              \
	volatile unsigned short skelgen_##name##_semaphore __attribute__((unused))      \
	__attribute__((section(".probes")))
SEMAPHORE(exact);
SEMAPHORE(natural);
SEMAPHORE(multi);
SEMAPHORE(guarded);
SEMAPHORE(sib);
SEMAPHORE(symbolic);

long skelgen_memory[2] = { 0x0102030405060708L, (long)0xaaaaaaaafffffff9UL };

__attribute__((noipa)) static void fire_exact(void)
{
	register long r12 asm("r12") = 0x0123456789abcdefL;
	register long r13 asm("r13") = 0x1111111180000005L;
	register long r14 asm("r14") = 0x222222222222fff0L;
	register long r15 asm("r15") = 0x33333333333333c8L;

	asm volatile(STAP_PROBE_ASM(skelgen, exact,
				    -8@%%rax -4@%%ebx 2@%%cx -1@%%dl 8@%%r12 -4@%%r13d
				    -2@%%r14w 1@%%r15b -4@$-5 8@$77 -4@8(%%rsi) 8@-8(%%rdi))
		     :
		     : "a"(-42L), "b"(0x77777777fffffff6L), "c"(0x123456789abc0102L),
		       "d"(0x55555555555555fdL), "S"(skelgen_memory), "D"(skelgen_memory + 1),
		       "r"(r12), "r"(r13), "r"(r14), "r"(r15)
		     : "memory");
}

__attribute__((noipa)) static void fire_natural(int a, long b, unsigned char c, short *d)
{
	STAP_PROBE5(skelgen, natural, -7, a, b, c, *d);
}

__attribute__((noipa)) static void fire_multi(void)
{
	asm volatile(STAP_PROBE_ASM(skelgen, multi, -4@%%eax) : : "a"(1));
	asm volatile(STAP_PROBE_ASM(skelgen, multi, -4@%%eax) : : "a"(2));
	asm volatile(STAP_PROBE_ASM(skelgen, multi, -4@$3) : :);
}

__attribute__((noipa)) static void fire_unreadable(void)
{
	asm volatile(STAP_PROBE_ASM(skelgen, sib, 8@-8(%%rsi,%%rax,8))
		     :
		     : "S"(skelgen_memory), "a"(2L)
		     : "memory");
	asm volatile(STAP_PROBE_ASM(skelgen, symbolic, 8@skelgen_memory(%%rip)) : :);
}

int main(void)
{
	char line[16];
	short d = -300;
	int round = 0;

	while (fgets(line, sizeof(line), stdin)) {
		round++;
		fire_exact();
		fire_natural(round, -5000000000L, 250, &d);
		fire_multi();
		fire_unreadable();
		if (skelgen_guarded_semaphore)
			STAP_PROBE1(skelgen, guarded, round);
		printf("%u\n", skelgen_guarded_semaphore);
		fflush(stdout);
	}
	return 0;
}
