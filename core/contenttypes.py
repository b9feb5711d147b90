"""A migration operation for models that move to another app with their table.

The content types (and so the permissions and admin log entries pointing at
them) keep their rows: only their ``app_label`` changes, forward and back.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import migrations


def relabel_content_types(
    old_app: str, new_app: str, models: Iterable[str]
) -> migrations.RunPython:
    models = tuple(models)

    def move(apps, from_app: str, to_app: str) -> None:  # noqa: ANN001
        content_type = apps.get_model("contenttypes", "ContentType")
        for model in models:
            if content_type.objects.filter(app_label=to_app, model=model).exists():
                continue  # already there: a database made after the move
            content_type.objects.filter(app_label=from_app, model=model).update(app_label=to_app)

    return migrations.RunPython(
        lambda apps, schema_editor: move(apps, old_app, new_app),
        lambda apps, schema_editor: move(apps, new_app, old_app),
    )
