"""Forms of the rectification pages: one field pair per failed item."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rectification.models import RectificationItem


def item_label(item: RectificationItem) -> str:
    title = item.indicator.title_zh if item.indicator_id else item.get_kind_display()
    return f"{item.code} {title}"


class RectificationReportForm(forms.Form):
    """The school's report: a text and an evidence file for every item."""

    def __init__(self, *args: Any, items: Iterable[RectificationItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"report_{item.pk}"] = forms.CharField(
                label=_("What was rectified: %(item)s") % {"item": item_label(item)},
                widget=forms.Textarea(attrs={"rows": 4}),
                initial=item.report,
            )
            self.fields[f"evidence_{item.pk}"] = forms.FileField(
                label=_("Evidence (PDF, JPEG, PNG, XLSX or DOCX)"),
                required=False,
                help_text=_("Kept from the previous report when left empty: %(name)s")
                % {"name": item.evidence_name}
                if item.evidence_name
                else "",
            )

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "item": item,
                "report": self[f"report_{item.pk}"],
                "evidence": self[f"evidence_{item.pk}"],
            }
            for item in self.items
        ]

    def item_reports(self) -> dict[int, tuple[str, Any]]:
        return {
            item.pk: (
                self.cleaned_data[f"report_{item.pk}"],
                self.cleaned_data.get(f"evidence_{item.pk}"),
            )
            for item in self.items
        }


class RectificationRecheckForm(forms.Form):
    """The group's re-check: a score for every item and the group's opinion."""

    comment = forms.CharField(
        label=_("The group's opinion"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("Required when an item fails."),
    )

    def __init__(self, *args: Any, items: Iterable[RectificationItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"points_{item.pk}"] = forms.DecimalField(
                label=item_label(item),
                max_digits=7,
                decimal_places=2,
                min_value=0,
                max_value=item.max_points,
                help_text=_("0 to %(max)s; passes at %(mark)s")
                % {"max": item.max_points, "mark": item.pass_mark},
            )

    def rows(self) -> list[dict[str, Any]]:
        return [{"item": item, "points": self[f"points_{item.pk}"]} for item in self.items]

    def scores(self) -> dict[int, Any]:
        return {item.pk: self.cleaned_data[f"points_{item.pk}"] for item in self.items}


class RectificationExtendForm(forms.Form):
    new_deadline = forms.DateField(
        label=_("New deadline"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(
        label=_("Reason for the extension"), widget=forms.Textarea(attrs={"rows": 4})
    )
