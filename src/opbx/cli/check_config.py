"""``opbx check-config``: the effective settings, read exactly as ``opbx realtime``, ``opbx api``
and ``opbx serve`` read them (TOML file, environment, defaults), with every secret masked.

Exit status 0 when they load, 2 with the message when they do not.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Mapping
from typing import Any

import orjson

from opbx.cli.common import Parser, chosen_log_format
from opbx.cli.servers import backend_settings, realtime_config
from opbx.configuration import ConfigError, is_loopback, mask_secret, mask_url, uses_development_secret
from opbx.parsing import parse_bounded_int

__all__ = ["describe", "register"]

_SECRET_KEYS = ("secret", "password")


def describe(value: Any, key: str = "") -> Any:
    """Settings as plain JSON values: secrets masked, URLs without passwords, sets sorted."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: describe(getattr(value, field.name), field.name) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(name): describe(item, str(name)) for name, item in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(describe(item) for item in value)
    if isinstance(value, tuple | list):
        if key == "headers":  # a webhook target's extra headers often carry credentials
            return {name: mask_secret(text) for name, text in value}
        return [describe(item) for item in value]
    if isinstance(value, str):
        if any(word in key for word in _SECRET_KEYS):
            return mask_secret(value)
        if key.endswith("_url") or key == "url":
            return mask_url(value)
    return value


def _cmd_check_config(args: argparse.Namespace) -> int:
    realtime = realtime_config(args)
    backend = backend_settings(os.environ.get("OPBX_BROADCAST_DRIVER", "pusher"))
    warnings = []
    if uses_development_secret(realtime.apps):
        exposed = "" if is_loopback(realtime.host) else f", and it listens on {realtime.host}"
        warnings.append(f"an app uses the published development secret{exposed}: set OPBX_APP_SECRET")
    text = os.environ.get("OPBX_WORKERS", "1")
    try:
        workers = parse_bounded_int(text, 1, 1024)
    except ValueError:
        raise ConfigError(f"OPBX_WORKERS: must be a whole number from 1, not {text!r}") from None
    log_format = chosen_log_format()
    report = {
        "realtime": {**describe(realtime), "workers": workers},
        "api": describe(backend),
        "log_format": log_format,
        "warnings": warnings,
    }
    print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode(), flush=True)
    return 0


def register(commands: Any) -> None:
    check: Parser = commands.add_parser(
        "check-config", help="load the settings as the servers would and print them, secrets masked"
    )
    check.add_argument("--config", help="TOML file with server settings and apps (or OPBX_CONFIG)")
    check.set_defaults(
        handler=_cmd_check_config,
        host=None,
        port=None,
        log_level=None,
        metrics_port=None,
        ssl_cert=None,
        ssl_key=None,
        no_metrics=False,
    )
