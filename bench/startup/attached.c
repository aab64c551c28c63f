// SPDX-License-Identifier: MIT
/* start → attached of a libbpf C skeleton (bpftool gen skeleton), built once per
 * object with -DSKEL=name -DSKEL_H='"name.skel.h"'.  Prints, once every program
 * is attached, CLOCK_MONOTONIC and the process's CPU time in ns, as the Python
 * drivers do. */
#include <stdio.h>
#include <time.h>
#include SKEL_H

#define CALL(name, fn) CALL_(name, fn)
#define CALL_(name, fn) name##__##fn

static long long ns(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(void)
{
	struct SKEL *skel = CALL(SKEL, open_and_load)();

	if (!skel || CALL(SKEL, attach)(skel))
		return 1;
	printf("%lld %lld\n", ns(CLOCK_MONOTONIC), ns(CLOCK_PROCESS_CPUTIME_ID));
	CALL(SKEL, destroy)(skel);
	return 0;
}
