// SPDX-License-Identifier: GPL-2.0
// The application side of subskel_lib.bpf.c: its own globals come first in every
// data section of the linked object, so the library's variables move.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

__u64 app_bss[3];
int app_data[5] = {1, 2, 3, 4, 5};
const volatile int app_rodata[7] = {7};

extern int lib_bump(void);

SEC("raw_tp")
int app_bump(void *ctx)
{
	app_bss[0] += app_data[0] + app_rodata[0];
	return lib_bump();
}
