"""Every thread of the system, from a task iterator (libbpf-bootstrap's task_iter):
one read() runs the program over all tasks, which prints a line for each."""

from __future__ import annotations

from task_iter_skel import TaskIterBpf

# task_struct.__state bits, as ps shows them
STATES = {0: "R", 1: "S", 2: "D", 4: "T", 8: "t", 0x80: "I", 0x402: "I"}


def main() -> None:
    with TaskIterBpf.open_and_load() as skel, skel.progs.dump_task.attach_iter() as it:
        lines = it.read_text().splitlines()
        print(f"{'PID':>7} {'TID':>7} {'PPID':>7} S COMM")
        for line in lines:
            pid, tid, ppid, state, comm = line.split(" ", 4)
            print(f"{pid:>7} {tid:>7} {ppid:>7} {STATES.get(int(state), '?')} {comm}")
        print(f"{len(lines)} tasks")


if __name__ == "__main__":
    main()
