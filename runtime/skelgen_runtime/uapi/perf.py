"""Constants of ``perf_event_open(2)`` (uapi ``linux/perf_event.h``)."""

PERF_TYPE_HARDWARE = 0
PERF_TYPE_SOFTWARE = 1
PERF_TYPE_TRACEPOINT = 2
PERF_COUNT_SW_CPU_CLOCK = 0
PERF_COUNT_SW_BPF_OUTPUT = 10
PERF_SAMPLE_RAW = 1 << 10
PERF_FLAG_FD_CLOEXEC = 1 << 3

PERF_EVENT_IOC_ENABLE = 0x2400
PERF_EVENT_IOC_DISABLE = 0x2401
PERF_EVENT_IOC_SET_BPF = 0x40042408

# perf_event_attr flag bits
FLAG_DISABLED = 1 << 0
FLAG_FREQ = 1 << 10
FLAG_WATERMARK = 1 << 14

# perf_event_header types, and the control page's data_head/data_tail offsets
PERF_RECORD_LOST = 2
PERF_RECORD_SAMPLE = 9
MMAP_DATA_HEAD = 1024
MMAP_DATA_TAIL = 1032
