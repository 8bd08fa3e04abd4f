"""The parsing layer, probed by Hypothesis: total on any input, canonical on what it accepts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from opbx.parsing import (
    FIRST_DAY,
    LAST_DAY,
    MAX_RECORD_ID,
    MAX_SECONDS,
    parse_bounded_int,
    parse_day,
    parse_moment,
    parse_record_id,
    parse_seconds,
    parse_socket_id,
)

settings.register_profile("opbx", derandomize=True, max_examples=300, deadline=None)
settings.load_profile("opbx")

ANY_TEXT = st.text(max_size=40) | st.from_regex(r"[0-9]{0,40}", fullmatch=True)


@given(ANY_TEXT)
@example("007")
@example("\u0661\u0662")  # Arabic-Indic digits
@example("+5")
@example("9" * 5000)
@example(str(MAX_RECORD_ID + 1))
@example("0")
def test_record_ids_are_canonical_ascii_decimal_in_range(text: str) -> None:
    try:
        value = parse_record_id(text)
    except ValueError:
        return
    assert 1 <= value <= MAX_RECORD_ID
    assert str(value) == text  # only the canonical spelling gets through


@given(st.integers(min_value=1, max_value=MAX_RECORD_ID))
def test_every_id_in_range_round_trips(value: int) -> None:
    assert parse_record_id(str(value)) == value


@given(ANY_TEXT, st.integers(0, 10), st.integers(10, 10**6))
def test_bounded_integers(text: str, low: int, high: int) -> None:
    try:
        value = parse_bounded_int(text, low, high)
    except ValueError:
        return
    assert low <= value <= high
    assert str(value) == text


@given(st.text(max_size=50))
@example("1.2")
@example("\u0661.\u0662")
@example("1.2.3")
@example("1" * 21 + ".1")
def test_socket_ids_are_ascii_digits_dot_digits(text: str) -> None:
    try:
        assert parse_socket_id(text) == text
    except ValueError:
        return
    left, right = text.split(".")
    assert left.isascii()
    assert left.isdigit()
    assert right.isascii()
    assert right.isdigit()


@given(ANY_TEXT | st.dates().map(date.isoformat))
@example("9999-12-31")
@example("0001-01-01")
@example("2026-02-30")
@example("\uff12\uff10\uff12\uff16-01-01")  # full-width digits
def test_days_are_iso_and_within_the_range(text: str) -> None:
    try:
        day = parse_day(text)
    except ValueError:
        return
    assert FIRST_DAY <= day <= LAST_DAY
    assert day.isoformat() == text
    assert day + timedelta(days=1) > day  # the day after is still a day: no overflow downstream


MOMENTS = (
    st.text(max_size=70)
    | st.datetimes(timezones=st.timezones() | st.none()).map(datetime.isoformat)
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
)


@given(MOMENTS)
@example("9999-12-31T23:59:59-14:00")
@example("0001-01-01T00:00:00+14:00")
@example(1e300)
@example(-1)
@example(2**63)
@example("2027-01-15T08:00:00Z")
@example(1_800_000_000_000)
def test_moments_are_utc_within_two_centuries_or_refused(value: str | int | float) -> None:
    try:
        moment = parse_moment(value)
    except ValueError:
        return
    assert moment.tzinfo is UTC or moment.utcoffset() == timedelta(0)
    assert datetime(2000, 1, 1, tzinfo=UTC) <= moment < datetime(2200, 1, 1, tzinfo=UTC)


@given(st.text(max_size=30) | st.integers() | st.floats(allow_nan=True, allow_infinity=True))
@example("1e400")
@example("NaN")
@example("-3")
@example(True)
def test_seconds_are_finite_and_bounded(value: str | int | float) -> None:
    try:
        seconds = parse_seconds(value)
    except ValueError:
        return
    assert isinstance(seconds, int)
    assert 0 <= seconds <= MAX_SECONDS


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2027-01-15T08:00:00Z", datetime(2027, 1, 15, 8, tzinfo=UTC)),
        ("2027-01-15T10:00:00+02:00", datetime(2027, 1, 15, 8, tzinfo=UTC)),
        ("2027-01-15T08:00:00", datetime(2027, 1, 15, 8, tzinfo=UTC)),
        (1_800_000_000, datetime(2027, 1, 15, 8, tzinfo=UTC)),
        (1_800_000_000_000, datetime(2027, 1, 15, 8, tzinfo=UTC)),
        (1_800_000_000.5, datetime(2027, 1, 15, 8, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_the_forms_providers_use(value: str | int | float, expected: datetime) -> None:
    assert parse_moment(value) == expected
