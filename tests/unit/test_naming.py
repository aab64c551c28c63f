"""The naming rule of generated modules."""

from __future__ import annotations

import time

from skelgen.naming import CTYPES_RESERVED, Scope, camel_case, comment_text, identifier


def test_identifier_rule() -> None:
    assert identifier("count") == "count"
    assert identifier("class") == "class_"
    assert identifier("None") == "None_"
    assert identifier("__u32") == "c__u32"
    assert identifier("__init__") == "c__init__"
    assert identifier("9lives") == "n9lives"
    assert identifier("") == "anon"
    assert identifier('"); import os; ("') == "c____import_os____"
    assert identifier("naïve") == "na_ve"
    assert identifier("_fields_", CTYPES_RESERVED) == "_fields__"
    assert identifier("from_buffer", CTYPES_RESERVED) == "from_buffer_"


def test_scope_makes_names_unique_deterministically() -> None:
    scope = Scope()
    assert scope.claim("dup") == "dup"
    assert scope.claim("dup", "union") == "dup_union"
    assert scope.claim("dup", "union") == "dup_union_2"
    assert scope.claim("dup") == "dup_2"


def test_camel_case_and_comments() -> None:
    assert camel_case("minimal_bpf") == "MinimalBpf"
    assert camel_case("my-prog.bpf") == "MyProgBpf"
    assert comment_text('a"b\n\\c') == "a?b??c"


def test_many_types_of_one_name_are_named_in_linear_time() -> None:
    """BTF may hold thousands of types called alike; naming them must not take
    quadratic time (20,000 claims took minutes that way)."""
    scope = Scope()
    start = time.perf_counter()
    names = [scope.claim("dup") for _ in range(20_000)]
    assert time.perf_counter() - start < 5
    assert names[:3] == ["dup", "dup_2", "dup_3"] and names[-1] == "dup_20000"
    assert scope.claim("dup_20001") == "dup_20001"
    assert scope.claim("dup") == "dup_20002"
