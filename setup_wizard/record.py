"""`@record`: the package's value classes, read-only for the type checker, cheap to create at import.

A record is a dataclass with a generated __init__ only (no __eq__, __repr__ or __hash__: compared, shown and
hashed by identity) whose fields mypy treats as read-only, as with `frozen=True`. At run time it is not
frozen: `frozen=True` generates __setattr__ and __delattr__ for each class, which made a fifth of the
wizard's import time on the way to `check`'s verdict (issue 20, "Speed"). mypy --strict, which CI runs,
rejects any assignment to a record's field, so nothing can rely on the run-time check. A class that is
compared or hashed by value (a set member, a dict key, a test's `==`) stays `@dataclass(frozen=True)`.
A record without a docstring gets its name as one: dataclass() would otherwise compute its signature
(inspect.signature) for a __doc__ nothing reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

T = TypeVar("T")

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform

    @dataclass_transform(frozen_default=True, field_specifiers=(field,))
    def record(cls: type[T]) -> type[T]: ...

else:

    def record(cls: type[T]) -> type[T]:
        if cls.__doc__ is None:  # else dataclass() writes the signature in (inspect.signature: ~80 us a class)
            cls.__doc__ = cls.__name__
        return dataclass(eq=False, repr=False)(cls)
