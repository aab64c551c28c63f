"""Files being deleted, from fentry and fexit programs on ``do_unlinkat``
(libbpf-bootstrap's fentry): typed arguments, and fexit sees them with the result."""

from __future__ import annotations

from fentry_skel import FentryBpf, event


def show(e: event) -> None:
    result = f" = {e.ret}" if e.exit else ""
    kind = "fexit " if e.exit else "fentry"
    print(f"{kind} pid {e.pid:<7} do_unlinkat {e.filename.decode()}{result}")


def main() -> None:
    with FentryBpf.open_and_load() as skel:
        skel.attach()
        print("Tracing unlink()s... Ctrl-C to end.", flush=True)
        for e in skel.maps.events:
            show(e)


if __name__ == "__main__":
    main()
