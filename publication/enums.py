from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ObjectionStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    UNDER_REVIEW = "under_review", _("Under review")
    UPHELD = "upheld", _("Upheld")
    DISMISSED = "dismissed", _("Dismissed")


# Objections still waiting for an answer: publication waits for them.
OBJECTION_OPEN = (ObjectionStatus.RECEIVED, ObjectionStatus.UNDER_REVIEW)


class ObjectorKind(models.TextChoices):
    PERSON = "person", _("Person (real name)")
    ORGANISATION = "organisation", _("Organisation (with its seal)")
