"""What publication announces to the apps above it (they connect in ``AppConfig.ready``).

``results_published`` is sent inside the publishing transaction, after a result set
became the published one (first publication or a correction), with ``result_set``
and ``actor``: rectification opens or withdraws its notices from it, in the same
transaction, so a failure there leaves nothing published.
"""

from django.dispatch import Signal

results_published = Signal()
