"""Longest-prefix-match tries (``LPM_TRIE``)."""

from __future__ import annotations

from ..cdata.codec import Codec, LpmKeyCodec
from ..lean.hints import TypeVar
from .map import Map

K = TypeVar("K")
V = TypeVar("V")


class LpmTrieMap(Map[K, V]):
    """``LPM_TRIE``: longest-prefix match.  Besides the key class, a key can be
    given as ``(prefixlen, data)`` or as an ``ipaddress`` network."""

    def _codecs(self) -> tuple[Codec, Codec]:
        if self._codecs_cache is None:
            key, value = super()._codecs()
            self._codecs_cache = (LpmKeyCodec(key), value)
        return self._codecs_cache
