"""Errors raised by services when a rule of the domain is broken."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule violation with a stable machine code and a translated message.

    ``field`` names the form field or indicator code the problem is about, so a
    form, an admin page or an API error body can point at it.
    """

    def __init__(
        self, message: Any, *, code: str, field: str | None = None, details: Any = None
    ) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.field = field
        self.details = details

    def __str__(self) -> str:
        return str(self.message)
