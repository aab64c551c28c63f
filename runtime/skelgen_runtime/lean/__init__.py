"""The parts of ``typing``, ``dataclasses`` and ``enum`` the runtime uses, at a small
fraction of their import cost.

A tool built on the runtime starts, loads and attaches within about two starts of a
bare interpreter; ``typing`` (with ``re``, ``functools``, ``contextlib``), ``dataclasses``
(with ``inspect``, ``ast``, ``dis``, ``tokenize``) and ``enum`` would cost more than that
before the first syscall, and each dataclass or enum class a few hundred microseconds
more.  Type checkers see the standard library's own names (each module re-exports them
under ``TYPE_CHECKING``), so the types are exactly the standard ones; at run time the
stand-ins behave as the runtime needs and nothing more.
"""
