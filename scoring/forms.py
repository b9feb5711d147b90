"""Forms of the score pages: they only read what was typed; the services judge it.

Range, decimals and the reason for a deduction are checked by the services
(``scoring.sheets.clean_points``), so the page shows exactly the message the
API would give. A points box also takes “N/A” (or 不适用), so the whole sheet
can be filled in from the keyboard.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

NOT_APPLICABLE_WORDS = frozenset({"n/a", "na", "不适用"})


class _PointsForm(forms.Form):
    points = forms.CharField(label=_("Points"), required=False, max_length=32)
    not_applicable = forms.BooleanField(label=_("Not applicable"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        points = (data.get("points") or "").strip()
        if points.lower() in NOT_APPLICABLE_WORDS:
            data["not_applicable"] = True
            points = ""
        data["points"] = points
        if data.get("not_applicable"):
            data["points"] = None
        return data


class ScoreForm(_PointsForm):
    """An evaluator's score for one observation point."""

    deduction_reason = forms.CharField(
        label=_("Reason for deduction"), required=False, max_length=4000
    )


class SelfScoreForm(_PointsForm):
    """The school's self score for one observation point."""

    note = forms.CharField(label=_("Note"), required=False, max_length=4000)


class OverrideScoreForm(_PointsForm):
    """A consensus score (with its justification) or an audit score (with its reason)."""

    text = forms.CharField(label=_("Justification"), required=False, max_length=4000)
