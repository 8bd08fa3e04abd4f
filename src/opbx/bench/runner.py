"""Entry point of ``opbx bench`` (filled in with the benchmark scenarios)."""

from __future__ import annotations

import argparse

__all__ = ["add_arguments", "run_from_args"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", default="warning")


def run_from_args(args: argparse.Namespace) -> int:
    raise NotImplementedError
