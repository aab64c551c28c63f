"""``make fuzz``: structure-aware fuzzing of the object reader, the generator and the
loader with mutated BPF objects.

Seeds are the project's compiled test objects; each mutant applies a few mutation
steps that understand ELF and BTF (:mod:`.mutators`) and goes through the ``skelgen``
command, an import of its output, ``BPFObject.open`` and, for a share, ``load()``
(:mod:`.checks`), in forked workers with time and memory limits (:mod:`.pool`).
Findings are minimised (:mod:`.minimize`) into ``tests/fuzz/regressions/``.

The harness's own ELF/BTF model (:mod:`.model`) is written apart from the runtime's
reader on purpose: it must be able to describe every malformation the reader refuses.
"""
