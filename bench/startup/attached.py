"""start → attached of a skelgen skeleton: ``python attached.py MODULE CLASS``.

Imports the generated module, opens, loads and attaches it, then prints
CLOCK_MONOTONIC and the process's CPU time in ns, as attached.c does, and the CPU
time the import of the module took."""

import importlib
import sys
import time

before = time.process_time_ns()
module = importlib.import_module(sys.argv[1])
imported = time.process_time_ns() - before
skel = getattr(module, sys.argv[2]).open_and_load()
skel.attach()
print(time.monotonic_ns(), time.process_time_ns(), imported)
skel.destroy()
