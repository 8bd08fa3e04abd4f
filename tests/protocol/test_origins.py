"""Origin patterns: exact origins, wildcard subdomains, any origin."""

from __future__ import annotations

import pytest

from opbx.protocol.origins import InvalidOriginPattern, normalize_origin_pattern, origin_allowed


@pytest.mark.parametrize(
    ("pattern", "canonical"),
    [
        ("*", "*"),
        ("https://App.Example.COM", "https://app.example.com"),
        ("https://app.example.com:443", "https://app.example.com"),
        ("http://app.example.com:80/", "http://app.example.com"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("https://*.example.com", "https://*.example.com"),
    ],
)
def test_patterns_are_written_canonically(pattern: str, canonical: str) -> None:
    assert normalize_origin_pattern(pattern) == canonical


@pytest.mark.parametrize(
    "pattern",
    [
        "app.example.com",
        "https://",
        "https://x.com/path",
        "https://x.com?q=1",
        "https://*.com",
        "https://a.*.com",
        "**",
    ],
)
def test_malformed_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(InvalidOriginPattern):
        normalize_origin_pattern(pattern)


def test_matching() -> None:
    patterns = ("https://app.example.com", "https://*.example.org")
    assert origin_allowed(patterns, "https://app.example.com")
    assert origin_allowed(patterns, "https://deep.sub.example.org")
    assert not origin_allowed(patterns, "https://example.org")
    assert not origin_allowed(patterns, "https://app.example.com.evil.net")
    assert not origin_allowed(patterns, "https://app.example.com:444")
    assert not origin_allowed(patterns, None)
    assert not origin_allowed(patterns, "not an origin")
    assert origin_allowed(("*",), None)
