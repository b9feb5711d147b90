"""Forms of the public notice, objection and publication pages.

They check the shape of the input (required fields, numbers, lengths); the
rules (a running notice, a valid identity number, the seal) are the services'.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from publication.enums import ObjectorKind
from publication.services import (
    MAX_NOTICE_DAYS,
    OBJECTION_MAX_CHARS,
    objection_identity_problems,
)


class ObjectionForm(forms.Form):
    school = forms.TypedChoiceField(label=_("School concerned"), coerce=int)
    indicator = forms.TypedChoiceField(
        label=_("Indicator concerned (optional)"), coerce=int, required=False, empty_value=None
    )
    content = forms.CharField(
        label=_("Your objection"),
        max_length=OBJECTION_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What is wrong, and what you know that shows it."),
    )
    objector_kind = forms.ChoiceField(
        label=_("Who objects"),
        choices=ObjectorKind.choices,
        initial=ObjectorKind.PERSON,
        widget=forms.RadioSelect,
    )
    name = forms.CharField(
        label=_("Real name (of the person, or the organisation's contact)"), max_length=100
    )
    id_number = forms.CharField(
        label=_("Citizen identity number (organisations: unified social credit code)"),
        max_length=32,
        required=False,
    )
    phone = forms.CharField(label=_("Phone"), max_length=32)
    organisation = forms.CharField(
        label=_("Organisation (organisations only)"), max_length=200, required=False
    )
    seal = forms.FileField(
        label=_("Scan of the organisation's seal (PDF, JPEG or PNG; organisations only)"),
        required=False,
    )
    truthful = forms.BooleanField(
        label=_(
            "I confirm that the information is true. My identity is kept confidential and "
            "seen only by the bureau staff handling the objection."
        )
    )

    def __init__(
        self,
        *args: Any,
        schools: list[tuple[int, str]],
        indicators: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school"].choices = [("", "—"), *schools]
        self.fields["indicator"].choices = [("", "—"), *indicators]

    def clean_seal(self) -> Any:
        seal = self.cleaned_data.get("seal")
        limit = int(getattr(settings, "OBJECTION_SEAL_MAX_BYTES", 5 * 1024 * 1024))
        if seal is not None and seal.size > limit:
            raise forms.ValidationError(_("The seal file is too large."))
        return seal

    def clean(self) -> dict[str, Any]:
        """The identity rules of the service, checked here too: every problem of the
        form shows at once, beside its field, in one answer."""
        data = super().clean()
        for problem in objection_identity_problems(
            kind=data.get("objector_kind") or "",
            name=data.get("name") or "",
            id_number=data.get("id_number") or "",
            phone=data.get("phone") or "",
            organisation=data.get("organisation") or "",
            has_seal=data.get("seal") is not None or "seal" in self.errors,
        ):
            if problem.field in self.fields and problem.field not in self.errors:
                self.add_error(problem.field, str(problem.message))
        return data


class TrackingForm(forms.Form):
    code = forms.CharField(
        label=_("Tracking code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": "YY-XXXX-XXXX-XXXX-XXXX"}
        ),
    )


class NoticeOpenForm(forms.Form):
    days = forms.IntegerField(
        label=_("Days of public notice"), min_value=1, max_value=MAX_NOTICE_DAYS
    )


class ResponseForm(forms.Form):
    response = forms.CharField(
        label=_("Response to the objector"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Shown to the objector on the tracking page."),
    )


class AuditScoreChangeForm(forms.Form):
    """One audit score change (upheld objection or correction)."""

    school = forms.TypedChoiceField(label=_("School"), coerce=int)
    indicator = forms.ChoiceField(label=_("Observation point"))
    points = forms.DecimalField(
        label=_("Audit score"), max_digits=7, decimal_places=2, min_value=0, required=False
    )
    not_applicable = forms.BooleanField(label=_("Not applicable"), required=False)

    def __init__(
        self,
        *args: Any,
        schools: list[tuple[int, str]],
        points: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school"].choices = schools
        self.fields["indicator"].choices = points

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("points") is None and not data.get("not_applicable"):
            self.add_error("points", _("Enter the audit score or mark it not applicable."))
        return data


class UpholdForm(ResponseForm, AuditScoreChangeForm):
    field_order = ["response", "school", "indicator", "points", "not_applicable"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Shares the page with the dismissal form: its own element ids.
        kwargs.setdefault("auto_id", "uphold_%s")
        super().__init__(*args, **kwargs)


class CorrectionForm(AuditScoreChangeForm):
    reason = forms.CharField(
        label=_("Reason for the correction"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Published with the corrected version."),
    )
    change_score = forms.BooleanField(
        label=_("Change an audit score as part of the correction"), required=False
    )

    field_order = ["reason", "change_score", "school", "indicator", "points", "not_applicable"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("school", "indicator"):
            self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        data = forms.Form.clean(self)
        if data.get("change_score"):
            if not data.get("school"):
                self.add_error("school", _("Choose the school."))
            if not data.get("indicator"):
                self.add_error("indicator", _("Choose the observation point."))
            if data.get("points") is None and not data.get("not_applicable"):
                self.add_error("points", _("Enter the audit score or mark it not applicable."))
        return data


class PublishForm(forms.Form):
    """The decision to publish; a reason is needed when some school's scoring is incomplete."""

    incomplete_reason = forms.CharField(
        label=_("Reason for publishing before every score is in"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_(
            "Recorded in the audit trail, stored with the published version and printed on "
            "the round summary and the results page."
        ),
    )

    def __init__(self, *args: Any, reason_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["incomplete_reason"].required = reason_required
        if reason_required:
            self.fields["incomplete_reason"].error_messages["required"] = _(
                "Some school's scoring is incomplete: give the reason for publishing now."
            )
