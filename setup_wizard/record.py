"""`@record`: the package's value classes, dataclass-shaped for the type checker, built without `exec` at import.

Every class of the package that holds values is a record: its annotated fields, in order, become the
parameters of its __init__ (positional or keyword; a default or `field(default_factory=...)` makes one
optional), as with `@dataclass`. mypy reads `@record` as a dataclass (`dataclass_transform`): it checks
every construction and, unless `frozen=False`, rejects any assignment to a field. CI runs mypy --strict,
so nothing relies on a run-time freeze and none is generated.

Why not `dataclasses.dataclass` itself: it writes the source of __init__ (and __eq__, __repr__, __hash__,
__setattr__ for a frozen class) for each class and compiles it with `exec` at import, 0.13-0.55 ms a
class on the reference machine. The 59 classes `check` imports spent 17-20 ms there; importing the
modules of `check` and `--yes` went from 45 to 28 ms once they were records (issue 20, "Speed"). A
record's methods are shared functions that read the class's field list, so creating a class costs one
small object.

- `@record`: compared, hashed and shown by identity, like `@dataclass(eq=False, repr=False, frozen=True)`.
- `@record(eq=True)`: compared and hashed by the values of its fields (`field(compare=False)` leaves one
  out) and shown with them, like `@dataclass(frozen=True)`.
- `@record(frozen=False)`: fields the code assigns after construction (a report being filled in).
- `replace(obj, name=value)` is `dataclasses.replace`; `values(obj)` is the fields as a dict, in order.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import MISSING, Field, field
from typing import TYPE_CHECKING, Any, TypeVar, overload

T = TypeVar("T")

FIELDS = "__record_fields__"  # the class attribute holding its _Fields


class _Fields:
    """One record class's fields: their order, defaults, factories and the ones that take part in ==."""

    __slots__ = ("compared", "defaults", "factories", "index", "names")
    names: tuple[str, ...]
    index: frozenset[str]
    defaults: dict[str, Any]
    factories: dict[str, Callable[[], Any]]
    compared: tuple[str, ...]

    def __init__(self, cls: type) -> None:
        # A record extending another starts from its fields, as a dataclass does.
        base: _Fields | None = next((vars(b)[FIELDS] for b in cls.__mro__[1:] if FIELDS in vars(b)), None)
        names: list[str] = list(base.names) if base else []
        self.defaults = dict(base.defaults) if base else {}
        self.factories = dict(base.factories) if base else {}
        compared: list[str] = list(base.compared) if base else []
        for name, annotation in inspect.get_annotations(cls).items():
            if _is_class_var(annotation):
                continue
            if name not in names:
                names.append(name)
            default = cls.__dict__.get(name, MISSING)
            compare = True
            if isinstance(default, Field):  # field(default=..., default_factory=..., compare=...)
                compare = default.compare
                if default.default_factory is not MISSING:
                    self.factories[name] = default.default_factory
                default = default.default
                if default is MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, default)
            if default is not MISSING:
                self.defaults[name] = default
            elif name not in self.factories and (self.defaults or self.factories):
                raise TypeError(f"non-default argument {name!r} follows default argument in {cls.__name__}")
            if compare and name not in compared:
                compared.append(name)
        self.names = tuple(names)
        self.index = frozenset(names)
        self.compared = tuple(compared)


def _is_class_var(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", repr(annotation))
    return text.startswith(("ClassVar", "typing.ClassVar"))


def _fields(obj: object) -> _Fields:
    found: _Fields | None = getattr(obj, FIELDS, None)
    if found is None:
        raise TypeError(f"{type(obj).__name__} is not a record")
    return found


def _init(self: object, *args: Any, **kwargs: Any) -> None:
    fields = _fields(self)
    name = type(self).__name__
    if len(args) > len(fields.names):
        raise TypeError(f"{name}() takes {len(fields.names)} positional arguments but {len(args)} were given")
    given = dict(zip(fields.names, args, strict=False))
    for key, value in kwargs.items():
        if key not in fields.index:
            raise TypeError(f"{name}() got an unexpected keyword argument {key!r}")
        if key in given:
            raise TypeError(f"{name}() got multiple values for argument {key!r}")
        given[key] = value
    state = self.__dict__
    for key in fields.names:
        if key in given:
            state[key] = given[key]
        elif key in fields.defaults:
            state[key] = fields.defaults[key]
        elif key in fields.factories:
            state[key] = fields.factories[key]()
        else:
            raise TypeError(f"{name}() missing required argument: {key!r}")
    post_init = getattr(self, "__post_init__", None)
    if post_init is not None:
        post_init()


def _key(obj: object) -> tuple[Any, ...]:
    state = obj.__dict__
    return tuple(state[name] for name in _fields(obj).compared)


def _eq(self: object, other: object) -> Any:  # bool, or NotImplemented for another class
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _key(self) == _key(other)


def _hash(self: object) -> int:
    return hash(_key(self))


def _repr(self: object) -> str:
    state = self.__dict__
    shown = ", ".join(f"{name}={state[name]!r}" for name in _fields(self).names)
    return f"{type(self).__qualname__}({shown})"


def _build(cls: type[T], eq: bool) -> type[T]:
    setattr(cls, FIELDS, _Fields(cls))
    methods: dict[str, Callable[..., Any]] = {"__init__": _init}
    if eq:
        methods.update(__eq__=_eq, __hash__=_hash, __repr__=_repr)
    for name, method in methods.items():
        setattr(cls, name, method)
    return cls


if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:  # the marker matters to type checkers only

    def dataclass_transform(**_kwargs):
        return lambda decorator: decorator


@overload
def record(cls: type[T], /) -> type[T]: ...


@overload
def record(*, eq: bool = False, frozen: bool = True) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(frozen_default=True, eq_default=False, field_specifiers=(field, Field))
def record(cls: type[T] | None = None, /, *, eq: bool = False,
           frozen: bool = True) -> type[T] | Callable[[type[T]], type[T]]:
    del frozen  # read by mypy only (see above)
    if cls is not None:
        return _build(cls, eq)
    return lambda target: _build(target, eq)


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of a record with some fields changed (`dataclasses.replace`); __post_init__ runs again."""
    fields = _fields(obj)
    unknown = sorted(set(changes) - fields.index)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field {unknown[0]!r}")
    state = obj.__dict__
    return type(obj)(**{name: changes.get(name, state[name]) for name in fields.names})


def values(obj: object) -> dict[str, Any]:
    """A record's fields and their values, in declaration order (a shallow `dataclasses.asdict`)."""
    state = obj.__dict__
    return {name: state[name] for name in _fields(obj).names}


def is_record(obj: object) -> bool:
    """Whether obj is a record class or an instance of one."""
    return getattr(obj, FIELDS, None) is not None
