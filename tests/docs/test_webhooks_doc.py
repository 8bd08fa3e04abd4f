"""docs/webhooks.md cannot rot: its examples parse, its tables name what the examples use."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from opbx.telephony.ingest import CDR_DISPOSITIONS, PROVIDER_STATUSES, WebhookKind, parse_webhook

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
NOW = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
KINDS = list(WebhookKind)


def sections() -> dict[str, str]:
    """Each ``## heading`` of the document (backticks removed) to the text under it."""
    found: dict[str, str] = {}
    for chunk in re.split(r"^## ", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]:
        heading, _, text = chunk.partition("\n")
        found[heading.strip().strip("`")] = text
    return found


def section(kind: WebhookKind) -> str:
    found = sections()
    assert kind.value in found, f"docs/webhooks.md has no '## {kind.value}' section"
    return found[kind.value]


def fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def examples(kind: WebhookKind) -> list[str]:
    return fenced(section(kind), "json")


def tables(text: str) -> list[list[list[str]]]:
    """Every Markdown table in ``text``: rows of cells, the header first, the rule dropped."""
    found: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(set(cell) <= {"-", ":"} for cell in cells):
                current.append(cells)
        elif current:
            found.append(current)
            current = []
    return found


def table_headed(text: str, first_column: str) -> list[list[str]]:
    for table in tables(text):
        if table[0][0].strip("`") == first_column:
            return table[1:]
    raise AssertionError(f"no table whose first column is {first_column!r}")


def code_names(cell: str) -> set[str]:
    return set(re.findall(r"`([^`]+)`", cell))


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_every_example_parses_into_a_report(kind: WebhookKind) -> None:
    bodies = examples(kind)
    assert bodies, f"the {kind} section has no json example"
    for body in bodies:
        report = parse_webhook(kind, body.encode(), NOW)
        assert report.call_id
        assert report.kind is kind


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_field_table_names_every_key_of_the_examples(kind: WebhookKind) -> None:
    documented: set[str] = set()
    for row in table_headed(section(kind), "name"):
        documented |= code_names(row[0])
    for body in examples(kind):
        decoded: dict[str, Any] = json.loads(body)
        missing = sorted(set(decoded) - documented)
        assert not missing, f"the {kind} table does not name {missing}"


@pytest.mark.parametrize(
    ("kind", "column", "table"),
    [(WebhookKind.CALL_STATUS, "status", PROVIDER_STATUSES), (WebhookKind.CDR, "disposition", CDR_DISPOSITIONS)],
    ids=["status", "disposition"],
)
def test_status_tables_match_the_parser(kind: WebhookKind, column: str, table: dict[str, Any]) -> None:
    documented: dict[str, str] = {}
    for row in table_headed(section(kind), column):
        state = sorted(code_names(row[1]))[0]
        documented.update((value.lower(), state) for value in code_names(row[0]))
    assert documented == {value: str(state) for value, state in table.items()}


def test_curl_example_signs_the_call_initiated_example() -> None:
    (script,) = fenced(sections()["Signing and sending one by hand"], "sh")
    match = re.search(r"^body='(.*)'$", script, flags=re.MULTILINE)
    assert match is not None
    (example,) = examples(WebhookKind.CALL_INITIATED)
    assert json.loads(match.group(1)) == json.loads(example)
    assert "X-Cloudonix-Signature: $sig" in script
    assert "/webhooks/cloudonix/call-initiated?org=" in script
