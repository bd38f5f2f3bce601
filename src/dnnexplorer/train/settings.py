"""How a field of a config becomes a setting: a flag, a form field, a checked value.

A config (train/config.py) declares each setting once, as a dataclass field made by `setting()`:
its type and default, as any field has, plus a `Setting`: its help, the names it takes, the
`Rule` its values obey, how to read it from text. `settings_of(TrainConfig)` hands them to
whoever needs them: the CLI makes its flags from them (cli/train.py), the web lab reads and
offers its form fields with them (serve/forms.py), and `check_values` checks a config, or a
model's recipe, against them.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import operator
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from dnnexplorer.errors import ConfigError


@dataclass(frozen=True)
class Rule:
    """The values a setting allows: those for which `allows(value)` is true, as `says` says.

    Each rule is written as what must hold, so that nan, which fails every comparison, fails it.
    """

    allows: Callable[[Any], bool]
    says: str  # completes "--lr ...", e.g. "must be positive and finite"


@dataclass(frozen=True)
class Setting:
    """What the command line and the web lab know of a config's field, beside its type and
    default: its help, the names it takes, the values it allows, how to read it from text."""

    help: str
    choices: tuple[str, ...] | Callable[[], Sequence[str]] = ()  # a function: known at run time
    rule: Rule | None = None
    parse: Callable[[str], Any] | None = None  # text -> value, for types beyond int, float, str
    metavar: str | None = None  # how --help shows the value, e.g. B1,B2
    short: str | None = None  # a one-letter flag, e.g. -m
    lab: bool = False  # the web lab's Train form offers it
    # Filled in by `settings()` from the field itself:
    name: str = ""
    default: Any = None
    kind: Any = None  # the field's type, e.g. int | None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def value_type(self) -> Any:
        """The type of the values it takes: int for `int | None` (None: the recipe's)."""
        return _without_none(self.kind)

    def names(self) -> Sequence[str]:
        """The names this setting takes (none: any value its type and rule allow)."""
        return self.choices() if callable(self.choices) else self.choices

    def check(self, value: Any, named: str) -> None:
        """ConfigError, naming the setting as `named`, unless its choices and rule allow `value`.

        A model's name is left to the model registry, which lists the models when it refuses one.
        """
        if isinstance(self.choices, tuple) and self.choices and value not in self.choices:
            raise ConfigError(f"{named} must be one of {', '.join(self.choices)}, got {value!r}")
        if self.rule is not None and not self.rule.allows(value):
            raise ConfigError(f"{named} {self.rule.says}, got {value!r}")

    def read(self, value: Any) -> Any:
        """A value as a web form sends it (text, or a JSON number or boolean) -> this setting's
        type; ConfigError naming the setting otherwise. TrainConfig checks its rule."""
        wanted = self.value_type
        if isinstance(value, bool):  # True is an int to Python, but no epoch count
            if wanted is bool:
                return value
        elif self.parse is not None and isinstance(value, str | int):
            return self.parse(str(value))
        elif wanted is str and isinstance(value, str):
            return value
        elif wanted is int:
            number = _whole_number(value)
            if number is not None:
                return number
        elif wanted is float:
            number = _number(value)
            if number is not None:
                return number
        label = self.name.replace("_", " ")
        raise ConfigError(f"{label} must be {_describe(wanted)}, got {value!r}")

    def describe(self) -> dict[str, Any]:
        """This setting as JSON, for a form: name, help, type, default, choices."""
        return {
            "name": self.name,
            "help": self.help,
            "type": _describe(self.kind),
            "default": self.default,
            "choices": list(self.names()),
        }


def setting(default: Any, help: str, **about: Any) -> Any:
    """A config field: its default, and its Setting (help, choices, rule ...: see above)."""
    return field(default=default, metadata={"setting": Setting(help, **about)})


def settings_of(config_class: type) -> dict[str, Setting]:
    """The settings of `config_class` by name, in the order of its fields, each knowing its
    field's name, default and type."""
    kinds = typing.get_type_hints(config_class)
    return {
        f.name: dataclasses.replace(
            f.metadata["setting"], name=f.name, default=f.default, kind=kinds[f.name]
        )
        for f in dataclasses.fields(config_class)
        if "setting" in f.metadata
    }


def check_values(values: Any, known: dict[str, Setting], where: str = "") -> None:
    """ConfigError unless each field of the dataclass `values` holds a value of its annotated
    type that the setting of the same name in `known` allows.

    Without `where` (a config), a field of the wrong type is named as in config.json (a flag's
    value has its type already), a value out of range as its flag; with it (a recipe), both as
    `where: name`.
    """
    kinds = typing.get_type_hints(type(values))
    for f in dataclasses.fields(values):
        value, kind = getattr(values, f.name), kinds[f.name]
        if not _is_a(value, kind):
            named = f"{where}: {f.name}" if where else f.name
            raise ConfigError(f"{named} must be {_describe(kind)}, got {value!r}")
        if f.name in known and value is not None:
            known[f.name].check(value, f"{where}: {f.name}" if where else known[f.name].flag)


def _is_a(value: object, hint: Any) -> bool:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_is_a(value, h) for h in args)
    if origin is Literal:
        return value in args
    if hint is Any:
        return True
    if isinstance(value, bool):  # bool is an int to Python, but True is no epoch count
        return hint is bool
    if hint is float:
        return isinstance(value, int | float)
    if origin is tuple:
        return True  # betas: its rule says what it takes (JSON has lists, not tuples)
    return isinstance(value, origin or hint)


_DESCRIPTIONS = {
    int: "a whole number",
    float: "a number",
    str: "text",
    bool: "true or false",
    dict: "an object",
    type(None): "null",
}


def _describe(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(h) for h in args)
    if origin is Literal:
        return " or ".join(repr(a) for a in args)
    return _DESCRIPTIONS.get(origin or hint, str(hint))


def _without_none(hint: Any) -> Any:
    """int | None -> int; int | Literal['full'] | None -> int | Literal['full']."""
    if typing.get_origin(hint) not in (typing.Union, types.UnionType):
        return hint
    return functools.reduce(operator.or_, [h for h in typing.get_args(hint) if h is not type(None)])


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _whole_number(value: Any) -> int | None:
    """3, 3.0 or "3" -> 3; anything else (1.5, "three", True) -> None."""
    if isinstance(value, str):
        value = value.strip()
        return int(value) if value.lstrip("+-").isdigit() else None
    if _is_number(value) and float(value).is_integer():
        return int(value)
    return None


def _number(value: Any) -> float | None:
    """0.1 or "0.1" -> 0.1; anything else ("fast", nan, inf, True) -> None."""
    try:
        number = float(value) if isinstance(value, str) or _is_number(value) else math.nan
    except ValueError:
        return None
    return number if math.isfinite(number) else None
