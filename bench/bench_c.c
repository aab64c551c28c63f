// SPDX-License-Identifier: MIT
/* The C side of bench/run.py, loaded into the same process (ctypes) so that C and
 * Python loops take turns on the very same map and ring buffer.
 *
 * Map loops call bpf(2) directly with one bpf_attr, as the Python runtime does; the
 * ring buffer is read with libbpf's ring_buffer__consume() and a callback that copies
 * each event into a struct.  Every function returns nanoseconds per operation.
 */
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static double elem_loop(int cmd, int fd, const uint32_t *keys, int n)
{
	union bpf_attr attr;
	uint32_t key;
	uint64_t value = 0;
	double started;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = fd;
	attr.key = (uint64_t)(uintptr_t)&key;
	if (cmd != BPF_MAP_DELETE_ELEM)
		attr.value = (uint64_t)(uintptr_t)&value;
	started = now_ns();
	for (int i = 0; i < n; i++) {
		key = keys[i];
		value = keys[i];
		sys_bpf(cmd, &attr);
	}
	return (now_ns() - started) / n;
}

double c_update(int fd, const uint32_t *keys, int n)
{
	return elem_loop(BPF_MAP_UPDATE_ELEM, fd, keys, n);
}

double c_lookup(int fd, const uint32_t *keys, int n)
{
	return elem_loop(BPF_MAP_LOOKUP_ELEM, fd, keys, n);
}

double c_delete(int fd, const uint32_t *keys, int n)
{
	return elem_loop(BPF_MAP_DELETE_ELEM, fd, keys, n);
}

/* Every entry of a u32 -> u64 hash, `chunk` per BPF_MAP_LOOKUP_BATCH call. */
double c_batch_read(int fd, int chunk, int *entries)
{
	uint32_t *keys = malloc(chunk * sizeof(*keys));
	uint64_t *values = malloc(chunk * sizeof(*values)), token = 0;
	double started = now_ns();
	int total = 0;

	for (int first = 1;; first = 0) {
		union bpf_attr attr;
		long ret;

		memset(&attr, 0, sizeof(attr));
		attr.batch.in_batch = first ? 0 : (uint64_t)(uintptr_t)&token;
		attr.batch.out_batch = (uint64_t)(uintptr_t)&token;
		attr.batch.keys = (uint64_t)(uintptr_t)keys;
		attr.batch.values = (uint64_t)(uintptr_t)values;
		attr.batch.count = chunk;
		attr.batch.map_fd = fd;
		ret = sys_bpf(BPF_MAP_LOOKUP_BATCH, &attr);
		total += attr.batch.count;
		if (ret < 0)
			break; /* ENOENT: the end */
	}
	started = (now_ns() - started) / (total ? total : 1);
	free(keys);
	free(values);
	*entries = total;
	return started;
}

struct event {
	uint64_t seq, ts;
	uint32_t pid, cpu;
	uint64_t value;
};

struct consumed {
	uint64_t count, checksum;
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct consumed *c = ctx;
	struct event e;

	memcpy(&e, data, sizeof(e)); /* decoded into a struct, as the Python side is */
	c->checksum += e.value;
	c->count++;
	return 0;
}

/* Consume `records` events from the ring buffer map `fd` (already filled). */
double c_ringbuf_consume(int fd, int records)
{
	struct consumed consumed = {};
	struct ring_buffer *rb = ring_buffer__new(fd, on_event, &consumed, NULL);
	double started;

	if (!rb)
		return -1;
	started = now_ns();
	while (consumed.count < (uint64_t)records)
		if (ring_buffer__consume(rb) < 0)
			break;
	started = (now_ns() - started) / records;
	ring_buffer__free(rb);
	return consumed.count == (uint64_t)records ? started : -1;
}
