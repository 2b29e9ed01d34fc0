"""A context-manager mixin for objects that hold resources until :meth:`close`."""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["Closing"]


class Closing:
    """Use as a context manager: ``__enter__`` returns the object, ``__exit__`` closes it.

    Subclasses define :meth:`close`.
    """

    def close(self) -> None:
        """Release the object's resources."""
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
