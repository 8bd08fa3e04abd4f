"""Settings declared on dataclass fields: every type a setting may have, from every source."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from opbx.configuration import ConfigError
from opbx.realtime.config_fields import NOT_A_SETTING, check, from_env, from_overrides, from_table, keys, setting


@dataclass(frozen=True, slots=True)
class Example:
    name: str
    count: int = field(default=3, metadata=setting(env=("EXAMPLE_COUNT",), flag="--count", at_most=10))
    ratio: float = field(default=0.5, metadata=setting(above=None, at_least=0, at_most=1))
    hosts: tuple[str, ...] = field(default=(), metadata=setting(env=("EXAMPLE_HOSTS",)))
    verbose: bool = field(default=False, metadata=setting(env=("EXAMPLE_VERBOSE",)))
    limit: int | None = field(default=None, metadata=setting(false_is_none=True, env=("EXAMPLE_LIMIT",)))
    internal: object = field(default=None, metadata=NOT_A_SETTING)


def load(table: dict[str, object], env: dict[str, str] | None = None, **overrides: object) -> dict[str, object]:
    given = from_table(Example, "example", {"name": "n", **table})
    given |= from_env(Example, env or {})
    given |= from_overrides(Example, overrides)
    return check(Example, given, "example")


def test_keys_are_the_fields_but_those_marked() -> None:
    assert keys(Example) == ("name", "count", "ratio", "hosts", "verbose", "limit")


def test_a_tuple_of_strings_from_a_toml_array_and_from_a_comma_separated_variable() -> None:
    assert load({"hosts": ["a:26379", "b:26379"]})["hosts"] == ("a:26379", "b:26379")
    assert load({}, {"EXAMPLE_HOSTS": " a:26379, b:26379 ,"})["hosts"] == ("a:26379", "b:26379")
    assert load({"hosts": []})["hosts"] == ()
    with pytest.raises(ConfigError, match=re.escape("example.hosts: must be an array of non-empty strings")):
        load({"hosts": "a:26379"})
    with pytest.raises(ConfigError, match=re.escape("example.hosts: must be an array of non-empty strings")):
        load({"hosts": ["a", 1]})


def test_the_environment_is_parsed_by_the_field_type() -> None:
    values = load({}, {"EXAMPLE_COUNT": " 7 ", "EXAMPLE_VERBOSE": "yes", "EXAMPLE_LIMIT": "4"})
    assert (values["count"], values["verbose"], values["limit"]) == (7, True, 4)
    assert "count" not in load({}, {"EXAMPLE_COUNT": ""}), "an empty variable is unset"


@pytest.mark.parametrize(
    ("table", "env", "overrides", "message"),
    [
        ({"colour": "red"}, {}, {}, "example: unknown setting(s) colour"),
        ({}, {}, {"colour": "red"}, "command line: unknown setting(s) colour"),
        ({"count": "7"}, {}, {}, "example.count: must be an integer above 0 and at most 10, not '7'"),
        ({}, {"EXAMPLE_COUNT": "seven"}, {}, "EXAMPLE_COUNT: must be an integer above 0 and at most 10, not 'seven'"),
        ({}, {}, {"count": 7.5}, "--count: must be an integer above 0 and at most 10, not 7.5"),
        ({"count": 11}, {}, {}, "example.count: must be an integer above 0 and at most 10, not 11"),
        ({}, {"EXAMPLE_COUNT": "0"}, {}, "EXAMPLE_COUNT: must be an integer above 0 and at most 10, not '0'"),
        ({}, {}, {"count": 11}, "--count: must be an integer above 0 and at most 10, not 11"),
        ({"ratio": 1.5}, {}, {}, "example.ratio: must be a number from 0 to 1, not 1.5"),
        ({"verbose": 1}, {}, {}, "example.verbose: must be true or false, not 1"),
        ({}, {"EXAMPLE_VERBOSE": "maybe"}, {}, "EXAMPLE_VERBOSE: must be true or false, not 'maybe'"),
        ({"limit": True}, {}, {}, "example.limit: must be an integer above 0 or false, not True"),
        ({"name": 5}, {}, {}, "example.name: must be a non-empty string, not 5"),
    ],
)
def test_bad_values_from_each_source_are_named(
    table: dict[str, object], env: dict[str, str], overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load(table, env, **overrides)


def test_a_required_field_is_named_when_missing() -> None:
    with pytest.raises(ConfigError, match=re.escape("example.name: missing")):
        check(Example, from_table(Example, "example", {}), "example")


def test_false_means_none_where_the_metadata_says_so() -> None:
    assert load({"limit": False})["limit"] is None
    assert load({"limit": 5})["limit"] == 5
    assert load({"ratio": 1})["ratio"] == 1.0
    assert isinstance(load({"ratio": 1})["ratio"], float)
