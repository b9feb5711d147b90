"""What rectification announces to the apps above it (they connect in ``AppConfig.ready``).

``notices_due`` is sent after commit with ``result_set_id`` and ``school_ids``: the
schools whose rectification notice (a PDF) should now be rendered; reports does.
"""

from django.dispatch import Signal

notices_due = Signal()
