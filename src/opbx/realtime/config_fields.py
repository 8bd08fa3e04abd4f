"""Settings declared on dataclass fields: their keys, types, defaults and ranges, checked in one place.

A configuration dataclass is the one definition of its settings: each field is a key (of
the TOML table), its type hint says what values it takes, its default is the default, and
its ``metadata`` (made with :func:`setting`) adds what a type cannot say: the environment
variables and command-line flag that may also set it, and its range or choices. Values
from every source are gathered first as :class:`Given` (value and where it came from),
then :func:`check` validates each once, naming its source in any error: ``server.port``
(the TOML file), ``OPBX_ADAPTER`` (the environment) or ``--port`` (the command line).
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from opbx.configuration import ConfigError, parse_bool

__all__ = [
    "NOT_A_SETTING",
    "Given",
    "Setting",
    "check",
    "check_keys",
    "from_env",
    "from_overrides",
    "from_table",
    "keys",
    "setting",
]


@dataclass(frozen=True, slots=True)
class Setting:
    """What a field's type does not say: other sources, and the range or choices of its values.

    Numbers must be above 0 unless ``above``, ``at_least`` or ``at_most`` says otherwise;
    strings must not be empty.
    """

    env: tuple[str, ...] = ()
    """Environment variables that set it, the first non-empty one winning (empty ones are unset)."""
    flag: str | None = None
    """Its command-line option (``--`` and the name with dashes when not given)."""
    above: float | None = 0
    at_least: float | None = None
    at_most: float | None = None
    choices: tuple[str, ...] = ()
    false_is_none: bool = False
    """TOML ``false`` means None (TOML has no null): e.g. no metrics endpoint."""
    check: Callable[[str, Any], Any] | None = None
    """Last check of a well-typed value: ``check(where, value)`` returns it (normalised) or raises."""


_KEY = "opbx.setting"
_DEFAULT = Setting()
NOT_A_SETTING: Mapping[str, Setting | None] = {_KEY: None}
"""Metadata of a field that is not read from the configuration (set by the program itself)."""


def setting(**options: Any) -> dict[str, Setting]:
    """Field metadata: ``field(default=..., metadata=setting(env=(VARIABLE,), at_most=100))``."""
    return {_KEY: Setting(**options)}


@dataclass(frozen=True, slots=True)
class Given:
    """A value from one source, not yet checked."""

    value: object
    where: str
    """The source as the user knows it: ``server.port``, ``OPBX_ADAPTER``, ``--port``."""
    source: Literal["file", "env", "flag"] = "file"
    """``file`` (a TOML value), ``env`` (text to be parsed by the field's type) or ``flag`` (a Python value)."""


def _fields(cls: type) -> dict[str, tuple[dataclasses.Field[Any], Setting]]:
    found: dict[str, tuple[dataclasses.Field[Any], Setting]] = {}
    for field in dataclasses.fields(cls):
        if _KEY in field.metadata and field.metadata[_KEY] is None:
            continue
        found[field.name] = (field, field.metadata.get(_KEY, _DEFAULT))
    return found


def keys(cls: type) -> tuple[str, ...]:
    """The settings of a configuration dataclass: its fields, but those marked :data:`NOT_A_SETTING`."""
    return tuple(_fields(cls))


def check_keys(where: str, table: Mapping[str, object], allowed: Collection[str]) -> None:
    """Refuse keys of ``table`` that are not in ``allowed``, so a typo never falls back to a default."""
    unknown = [str(key) for key in table if key not in allowed]
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")


def from_table(cls: type, where: str, table: Mapping[str, object]) -> dict[str, Given]:
    """The settings of a TOML table, keyed ``{where}.{key}``; unknown keys refused."""
    check_keys(where, table, keys(cls))
    return {key: Given(value, f"{where}.{key}") for key, value in table.items()}


def from_env(cls: type, env: Mapping[str, str]) -> dict[str, Given]:
    """The settings the environment sets, named by their variable."""
    given = {}
    for name, (_, options) in _fields(cls).items():
        variable = next((variable for variable in options.env if env.get(variable)), None)
        if variable is not None:
            given[name] = Given(env[variable], variable, "env")
    return given


def from_overrides(cls: type, overrides: Mapping[str, object]) -> dict[str, Given]:
    """The settings given on the command line (None: not given), named by their flag."""
    fields = _fields(cls)
    check_keys("command line", overrides, fields)
    return {
        name: Given(value, fields[name][1].flag or "--" + name.replace("_", "-"), "flag")
        for name, value in overrides.items()
        if value is not None
    }


def check(cls: type, given: Mapping[str, Given], where: str = "") -> dict[str, Any]:
    """Each given value checked once against its field's type hint and metadata.

    A field with no default that is not given is named as ``{where}.{name}: missing``.
    """
    hints = get_type_hints(cls)
    fields = _fields(cls)
    values = {}
    for name, (field, options) in fields.items():
        if name in given:
            values[name] = _value(given[name], hints[name], options)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{where}.{name}: missing")
    return values


def _value(given: Given, hint: Any, options: Setting) -> Any:
    optional = _optional(hint)
    kind = optional if optional is not None else hint
    value = given.value
    if options.false_is_none and optional is not None and value is False:
        return None
    if optional is not None and value is None and given.source == "flag":
        return None
    if given.source == "env":
        value = _parse(given.where, value, kind)
    value = _typed(given, value, kind, options)
    return options.check(given.where, value) if options.check is not None else value


def _optional(hint: Any) -> Any:
    """``X`` of ``X | None``, None for other hints."""
    if get_origin(hint) in (Union, types.UnionType):
        args = [arg for arg in get_args(hint) if arg is not type(None)]
        if len(args) == 1 and len(get_args(hint)) == 2:
            return args[0]
    return None


def _parse(where: str, text: object, kind: Any) -> object:
    """An environment variable's text as ``kind``; what cannot be parsed is left for the type check to name."""
    assert isinstance(text, str)
    kind = getattr(kind, "__supertype__", kind)
    if kind is bool:
        return parse_bool(where, text)
    if kind is int or kind is float:
        try:
            return kind(text.strip())
        except ValueError:
            return text
    if get_origin(kind) is tuple:
        return [item.strip() for item in text.split(",") if item.strip()]
    return text


def _expected(kind: Any, options: Setting, source: Literal["file", "env", "flag"]) -> str:
    if options.choices:
        return "one of " + ", ".join(options.choices)
    kind = getattr(kind, "__supertype__", kind)
    name = {bool: "true or false", int: "an integer", float: "a number", str: "a non-empty string"}.get(kind)
    if name is None and get_origin(kind) is tuple and get_args(kind) == (str, ...):
        name = "a comma-separated list" if source == "env" else "an array of non-empty strings"
    if name is None:
        raise TypeError(f"no setting can be of type {kind!r}")
    bounds = []
    if options.at_least is not None and options.at_most is not None:
        bounds.append(f"from {options.at_least:g} to {options.at_most:g}")
    else:
        if options.above is not None and options.at_least is None and kind in (int, float):
            bounds.append(f"above {options.above:g}")
        if options.at_least is not None:
            bounds.append(f"at least {options.at_least:g}")
        if options.at_most is not None:
            bounds.append(f"at most {options.at_most:g}")
    falsable = options.false_is_none and source == "file"
    return " ".join([name, " and ".join(bounds)]).strip() + (" or false" if falsable else "")


def _typed(given: Given, value: object, kind: Any, options: Setting) -> object:
    """``value`` if it is of ``kind`` (an int for a float made a float) and in range, else a ConfigError."""
    expected = _expected(kind, options, given.source)
    refused = ConfigError(f"{given.where}: must be {expected}, not {given.value!r}")
    kind = getattr(kind, "__supertype__", kind)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind in (int, float):
        if not isinstance(value, kind) or isinstance(value, bool):
            raise refused
        assert isinstance(value, int | float)
        if options.above is not None and options.at_least is None and not value > options.above:
            raise refused
        if options.at_least is not None and value < options.at_least:
            raise refused
        if options.at_most is not None and value > options.at_most:
            raise refused
        return value
    if kind is bool or kind is str:
        if not isinstance(value, kind) or (kind is str and not value):
            raise refused
    elif get_origin(kind) is tuple:
        if not isinstance(value, list | tuple) or not all(isinstance(item, str) and item for item in value):
            raise refused
        value = tuple(value)
    if options.choices and value not in options.choices:
        raise refused
    return value
