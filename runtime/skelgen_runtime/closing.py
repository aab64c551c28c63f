"""``Closing``: the context-manager protocol of everything that owns kernel resources."""

from __future__ import annotations

from types import TracebackType

from .lean.hints import Self


class Closing:
    """Leaving a ``with`` block calls :meth:`close` (maps, links, objects, pollers)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
