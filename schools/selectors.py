"""Read queries for schools and their evidence files.

Each function runs a fixed number of queries whatever the size of the
framework or the number of files, so the pages built on them keep a constant
query count.
"""

from __future__ import annotations

from django.db.models import QuerySet

from schools.models import School

# ------------------------------------------------------------------ REST API reads


def schools_registry() -> QuerySet[School]:
    """Every school with its registry facts only (what the public API shows)."""
    return School.objects.only(
        "id",
        "code",
        "name_zh",
        "name_en",
        "kind",
        "ranking_group",
        "status",
        "district",
        "licence_number",
    ).order_by("code")
