"""Why the directory refused a change: one class per answer, each with its HTTP status.

The command line prints the message and exits with status 2; the API answers with
``status`` and the message (``{"error": message, "status": status}``).
"""

from __future__ import annotations

from typing import ClassVar

__all__ = ["Conflict", "DirectoryError", "Forbidden", "Invalid", "NotFound"]


class DirectoryError(Exception):
    """A refused directory operation; the message says what is wrong."""

    status: ClassVar[int] = 400

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class Invalid(DirectoryError):
    """A value that breaks a rule: not E.164, an unknown role, a weak password."""

    status = 422


class NotFound(DirectoryError):
    """No such organization, user, extension or number (in the caller's organization)."""

    status = 404


class Conflict(DirectoryError):
    """The change collides with what exists: a duplicate email or number, a record in use."""

    status = 409


class Forbidden(DirectoryError):
    """The caller's role does not allow the change."""

    status = 403
