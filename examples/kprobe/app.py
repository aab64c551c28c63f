"""Files being deleted, from a kprobe and a kretprobe on ``do_unlinkat``
(libbpf-bootstrap's kprobe)."""

from __future__ import annotations

from kprobe_skel import KprobeBpf, event


def show(e: event) -> None:
    if e.exit:
        print(f"pid {e.pid:<7} do_unlinkat returned {e.ret}")
    else:
        print(f"pid {e.pid:<7} do_unlinkat {e.filename.decode()}")


def main() -> None:
    with KprobeBpf.open_and_load() as skel:
        skel.attach()
        print("Tracing unlink()s... Ctrl-C to end.", flush=True)
        for e in skel.maps.events:
            show(e)


if __name__ == "__main__":
    main()
