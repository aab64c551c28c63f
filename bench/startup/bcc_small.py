"""start → attached of small.bpf.c's tool written for bcc (run by the system
python3, which has bcc): the C text is compiled at start, as bcc tools do."""

import time

from bcc import BPF

TEXT = """
BPF_HASH(counts, u32, u64, 1024);
BPF_ARRAY(globals, u64, 2);  /* bcc has no global data sections: calls, seen */

TRACEPOINT_PROBE(syscalls, sys_enter_getpid)
{
	u32 tgid = bpf_get_current_pid_tgid() >> 32, calls = 0, seen = 1;
	u64 *value;

	if (TARGET_TGID && tgid != TARGET_TGID)
		return 0;
	value = globals.lookup(&calls);
	if (value)
		__sync_fetch_and_add(value, 1);
	value = globals.lookup(&seen);
	if (value)
		*value = tgid;
	counts.increment(tgid);
	return 0;
}
"""

bpf = BPF(
    text=TEXT, cflags=["-DTARGET_TGID=0"]
)  # TRACEPOINT_PROBE attaches while loading
print(time.monotonic_ns(), time.process_time_ns())
bpf.cleanup()
