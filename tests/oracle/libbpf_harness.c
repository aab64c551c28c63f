// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libbpf_harness: load a BPF object with the system libbpf and describe the
 * outcome as JSON, so that skelgen's loader can be checked against libbpf.
 *
 * usage: libbpf_harness OBJ [--run PROG]... [--load-only-prog PROG]...
 *                           [--time N] [--dump-insns] [--verbose]
 *                           [--attach-usdt PROG:BINARY:PROVIDER:NAME [--usdt-cookie N]]
 *
 * Output (stdout, one JSON document):
 *   {
 *     "object": "path", "libbpf_version": "v1.1", "pid": N,
 *     "load": "ok" | "error",
 *     "errno": N, "stage": "open" | "load",        (only when load failed)
 *     "programs": [{"name", "section", "type", "autoload", "fd_ok",
 *                   "insn_cnt", "insns" (hex, with --dump-insns)}],
 *     "runs": [{"name", "ok", "retval", "errno"}],
 *     "datasecs": {".bss": "hex", ".data": "hex", ".kconfig": "hex", ...},
 *     "usdt": {"ok", "errno", "specs": ["hex", ...]}      (with --attach-usdt:
 *              the first USDT_SPECS_SHOWN values of __bpf_usdt_specs while attached)
 *     "time": {"n", "mean_us", "min_us", "max_us", "failures"} (with --time)
 *   }
 *
 * libbpf warnings (including the verifier log of a failed load) go to
 * stderr; --verbose adds libbpf's info and debug messages.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define MAX_RAW_TP_ARGS 12 /* MAX_BPF_FUNC_ARGS in the kernel */
#define PKT_LEN 64
#define USDT_SPECS_SHOWN 16

struct options {
	const char *obj_path;
	const char **run;
	int n_run;
	const char **load_only;
	int n_load_only;
	long time_reps;
	bool dump_insns;
	bool verbose;
	char *usdt; /* PROG:BINARY:PROVIDER:NAME, split in place */
	unsigned long long usdt_cookie;
};

static bool g_verbose;

static int print_cb(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level != LIBBPF_WARN && !g_verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s OBJ [--run PROG]... [--load-only-prog PROG]...\n"
		"          [--time N] [--dump-insns] [--verbose]\n",
		argv0);
	exit(2);
}

static void json_string(const char *s)
{
	const unsigned char *p;

	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", stdout);
			break;
		case '\\':
			fputs("\\\\", stdout);
			break;
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\t':
			fputs("\\t", stdout);
			break;
		default:
			if (*p < 0x20)
				printf("\\u%04x", *p);
			else
				putchar(*p);
		}
	}
	putchar('"');
}

static void json_hex(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i;

	putchar('"');
	for (i = 0; i < len; i++)
		printf("%02x", p[i]);
	putchar('"');
}

static bool wanted(const char *name, const char **list, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

static void apply_autoload(struct bpf_object *obj, const struct options *opt)
{
	struct bpf_program *prog;

	if (!opt->n_load_only)
		return;
	bpf_object__for_each_program(prog, obj)
		bpf_program__set_autoload(
			prog, wanted(bpf_program__name(prog), opt->load_only, opt->n_load_only));
}

/*
 * Key of a global-data map: its ELF section name. libbpf 1.1 reports the
 * kernel-visible name ("objname.bss") for .bss/.data/.rodata/.kconfig and the
 * section name for .data.* / .rodata.*; newer libbpf reports the section name
 * for all of them. The object prefix never contains a dot.
 */
static const char *datasec_name(const struct bpf_map *map)
{
	const char *name = bpf_map__name(map);
	const char *dot = strchr(name, '.');

	return dot ? dot : name;
}

static void print_programs(struct bpf_object *obj, const struct options *opt)
{
	struct bpf_program *prog;
	bool first = true;

	fputs("\"programs\": [", stdout);
	bpf_object__for_each_program(prog, obj) {
		printf("%s\n  {\"name\": ", first ? "" : ",");
		json_string(bpf_program__name(prog));
		fputs(", \"section\": ", stdout);
		json_string(bpf_program__section_name(prog));
		fputs(", \"type\": ", stdout);
		json_string(libbpf_bpf_prog_type_str(bpf_program__type(prog)));
		printf(", \"autoload\": %s, \"fd_ok\": %s, \"insn_cnt\": %zu",
		       bpf_program__autoload(prog) ? "true" : "false",
		       bpf_program__fd(prog) >= 0 ? "true" : "false",
		       bpf_program__insn_cnt(prog));
		if (opt->dump_insns) {
			fputs(", \"insns\": ", stdout);
			json_hex(bpf_program__insns(prog),
				 bpf_program__insn_cnt(prog) * sizeof(struct bpf_insn));
		}
		putchar('}');
		first = false;
	}
	fputs("]", stdout);
}

static int test_run(const struct bpf_program *prog, int *retval)
{
	unsigned long long raw_tp_args[MAX_RAW_TP_ARGS] = {};
	unsigned char pkt_in[PKT_LEN] = {}, pkt_out[PKT_LEN * 2];
	LIBBPF_OPTS(bpf_test_run_opts, topts);
	int fd = bpf_program__fd(prog), err;

	switch (bpf_program__type(prog)) {
	case BPF_PROG_TYPE_SYSCALL:
		break;
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
	case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE:
		topts.ctx_in = raw_tp_args;
		topts.ctx_size_in = sizeof(raw_tp_args);
		break;
	case BPF_PROG_TYPE_XDP:
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
	case BPF_PROG_TYPE_SOCKET_FILTER:
	case BPF_PROG_TYPE_CGROUP_SKB:
	case BPF_PROG_TYPE_LWT_IN:
	case BPF_PROG_TYPE_LWT_OUT:
	case BPF_PROG_TYPE_LWT_XMIT:
		/* an all-zero Ethernet frame with an IPv4 ethertype */
		pkt_in[12] = 0x08;
		topts.data_in = pkt_in;
		topts.data_size_in = sizeof(pkt_in);
		topts.data_out = pkt_out;
		topts.data_size_out = sizeof(pkt_out);
		topts.repeat = 1;
		break;
	default:
		break;
	}
	err = bpf_prog_test_run_opts(fd, &topts);
	*retval = (int)topts.retval;
	return err < 0 ? -errno : 0;
}

static void print_runs(struct bpf_object *obj, const struct options *opt, bool loaded)
{
	int i;

	fputs("\"runs\": [", stdout);
	for (i = 0; loaded && i < opt->n_run; i++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(obj, opt->run[i]);
		int retval = 0, err;

		if (!prog)
			err = -ENOENT;
		else if (bpf_program__fd(prog) < 0)
			err = -EBADF;
		else
			err = test_run(prog, &retval);
		printf("%s\n  {\"name\": ", i ? "," : "");
		json_string(opt->run[i]);
		printf(", \"ok\": %s, \"retval\": %d, \"errno\": %d}", err ? "false" : "true",
		       retval, -err);
	}
	fputs("]", stdout);
}

static void print_datasecs(struct bpf_object *obj, bool loaded)
{
	struct bpf_map *map;
	bool first = true;

	fputs("\"datasecs\": {", stdout);
	bpf_object__for_each_map(map, obj) {
		size_t size = bpf_map__value_size(map);
		unsigned int key = 0;
		void *buf;

		if (!loaded || !bpf_map__is_internal(map) || bpf_map__fd(map) < 0)
			continue;
		buf = calloc(1, size ? size : 1);
		if (!buf) {
			perror("calloc");
			exit(1);
		}
		if (bpf_map_lookup_elem(bpf_map__fd(map), &key, buf)) {
			fprintf(stderr, "lookup of map '%s' failed: %s\n", bpf_map__name(map),
				strerror(errno));
			free(buf);
			continue;
		}
		printf("%s\n  ", first ? "" : ",");
		json_string(datasec_name(map));
		fputs(": ", stdout);
		json_hex(buf, size);
		free(buf);
		first = false;
	}
	fputs("}", stdout);
}

/* Attach one USDT program through libbpf and show the specs libbpf wrote. */
static void print_usdt(struct bpf_object *obj, const struct options *opt)
{
	char *prog_name = opt->usdt, *binary, *provider, *name;
	LIBBPF_OPTS(bpf_usdt_opts, uopts, .usdt_cookie = opt->usdt_cookie);
	struct bpf_program *prog;
	struct bpf_link *link = NULL;
	struct bpf_map *specs;
	int err = 0, key;

	binary = strchr(prog_name, ':');
	provider = binary ? strchr(binary + 1, ':') : NULL;
	name = provider ? strchr(provider + 1, ':') : NULL;
	if (!name)
		usage("libbpf_harness");
	*binary++ = *provider++ = *name++ = '\0';
	prog = bpf_object__find_program_by_name(obj, prog_name);
	specs = bpf_object__find_map_by_name(obj, "__bpf_usdt_specs");
	if (!prog || !specs) {
		err = ENOENT;
	} else {
		link = bpf_program__attach_usdt(prog, -1, binary, provider, name, &uopts);
		if (!link)
			err = errno;
	}
	printf(",\n\"usdt\": {\"ok\": %s, \"errno\": %d, \"specs\": [", err ? "false" : "true",
	       err);
	for (key = 0; !err && key < USDT_SPECS_SHOWN; key++) {
		size_t size = bpf_map__value_size(specs);
		void *buf = calloc(1, size);

		if (!buf || bpf_map_lookup_elem(bpf_map__fd(specs), &key, buf)) {
			perror("usdt specs");
			exit(1);
		}
		fputs(key ? ", " : "", stdout);
		json_hex(buf, size);
		free(buf);
	}
	fputs("]}", stdout);
	bpf_link__destroy(link);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void print_timing(const struct options *opt)
{
	double sum = 0, min = 0, max = 0;
	long i, failures = 0;

	for (i = 0; i < opt->time_reps; i++) {
		struct bpf_object *obj;
		double t0, dt;
		int err = 0;

		t0 = now_us();
		obj = bpf_object__open_file(opt->obj_path, NULL);
		if (obj) {
			apply_autoload(obj, opt);
			err = bpf_object__load(obj);
		}
		dt = now_us() - t0;
		if (!obj || err)
			failures++;
		bpf_object__close(obj);
		sum += dt;
		if (i == 0 || dt < min)
			min = dt;
		if (i == 0 || dt > max)
			max = dt;
	}
	printf(",\n\"time\": {\"n\": %ld, \"mean_us\": %.3f, \"min_us\": %.3f, "
	       "\"max_us\": %.3f, \"failures\": %ld}",
	       opt->time_reps, opt->time_reps ? sum / (double)opt->time_reps : 0.0, min, max,
	       failures);
}

static void parse_args(int argc, char **argv, struct options *opt)
{
	int i;

	opt->run = calloc((size_t)argc, sizeof(*opt->run));
	opt->load_only = calloc((size_t)argc, sizeof(*opt->load_only));
	if (!opt->run || !opt->load_only) {
		perror("calloc");
		exit(1);
	}
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		bool has_value = i + 1 < argc;

		if (strcmp(arg, "--run") == 0 && has_value) {
			opt->run[opt->n_run++] = argv[++i];
		} else if (strcmp(arg, "--load-only-prog") == 0 && has_value) {
			opt->load_only[opt->n_load_only++] = argv[++i];
		} else if (strcmp(arg, "--time") == 0 && has_value) {
			char *end;

			opt->time_reps = strtol(argv[++i], &end, 10);
			if (*end || opt->time_reps < 0)
				usage(argv[0]);
		} else if (strcmp(arg, "--dump-insns") == 0) {
			opt->dump_insns = true;
		} else if (strcmp(arg, "--attach-usdt") == 0 && has_value) {
			opt->usdt = argv[++i];
		} else if (strcmp(arg, "--usdt-cookie") == 0 && has_value) {
			opt->usdt_cookie = strtoull(argv[++i], NULL, 0);
		} else if (strcmp(arg, "--verbose") == 0) {
			opt->verbose = true;
		} else if (arg[0] == '-' || opt->obj_path) {
			usage(argv[0]);
		} else {
			opt->obj_path = arg;
		}
	}
	if (!opt->obj_path)
		usage(argv[0]);
}

int main(int argc, char **argv)
{
	struct options opt = {};
	struct bpf_object *obj;
	int err = 0;

	parse_args(argc, argv, &opt);
	g_verbose = opt.verbose;
	libbpf_set_print(print_cb);

	printf("{\"object\": ");
	json_string(opt.obj_path);
	printf(",\n\"libbpf_version\": ");
	json_string(libbpf_version_string());
	printf(",\n\"pid\": %d", (int)getpid());

	obj = bpf_object__open_file(opt.obj_path, NULL);
	if (!obj) {
		err = errno ? errno : EINVAL;
		printf(",\n\"load\": \"error\", \"errno\": %d, \"stage\": \"open\"", err);
		printf(",\n\"programs\": [], \"runs\": [], \"datasecs\": {}");
	} else {
		apply_autoload(obj, &opt);
		err = -bpf_object__load(obj);
		if (err)
			printf(",\n\"load\": \"error\", \"errno\": %d, \"stage\": \"load\"", err);
		else
			printf(",\n\"load\": \"ok\"");
		fputs(",\n", stdout);
		print_programs(obj, &opt);
		fputs(",\n", stdout);
		print_runs(obj, &opt, !err);
		fputs(",\n", stdout);
		print_datasecs(obj, !err);
		if (opt.usdt && !err)
			print_usdt(obj, &opt);
		bpf_object__close(obj);
	}
	if (opt.time_reps)
		print_timing(&opt);
	printf("}\n");

	free(opt.run);
	free(opt.load_only);
	return 0;
}
