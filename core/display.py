"""Display helpers every layer shares: figures rounded for display, titles and names in
the page language. No app imported."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from django.utils.translation import get_language


def number(value: Any, places: int | None = 2) -> Decimal | None:
    """A stored figure (text, number or Decimal) as a Decimal, rounded half up to
    ``places`` for display (``None``: as stored). Empty and missing give ``None``."""
    if value is None or value == "":
        return None
    figure = Decimal(str(value))
    if places is None:
        return figure
    return figure.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


class Titled(Protocol):
    title_zh: str
    title_en: str


def title(indicator: Titled | None, code: str | None = None) -> str:
    """An indicator's (or dimension's) title in the page language; ``code`` when none."""
    if indicator is None:
        return code or ""
    if (get_language() or "").startswith("en") and indicator.title_en:
        return indicator.title_en
    return indicator.title_zh


class Named(Protocol):
    name_zh: str
    name_en: str


def school_name(school: Named) -> str:
    """A school's name in the page language."""
    if (get_language() or "").startswith("en") and school.name_en:
        return school.name_en
    return school.name_zh
