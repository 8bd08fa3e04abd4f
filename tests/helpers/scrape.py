"""Read a node's Prometheus endpoint the way Prometheus does: GET /metrics, parse the text."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Callable

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
"""Sample name and labels to value."""


def _scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(port: int) -> Samples:
    """The samples of ``http://127.0.0.1:{port}/metrics`` (off the loop: the server may run on it)."""
    return await asyncio.to_thread(_scrape, port)


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series is absent."""
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape_until(port: int, condition: Callable[[Samples], bool], timeout: float = 10.0) -> Samples:
    """Scrape until ``condition`` holds (the server counts as it gets to it); fail after ``timeout``."""
    async with asyncio.timeout(timeout):
        while True:
            samples = await scrape(port)
            if condition(samples):
                return samples
            await asyncio.sleep(0.02)
