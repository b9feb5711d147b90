"""Running a short write transaction again when the database aborts it for a reason
that is not the writer's fault: a deadlock or a serialization failure
(PostgreSQL), or a lock that stayed busy past the timeout (SQLite).

Only a whole transaction can be run again, so the retried function must open its
own (``transaction.atomic``) and nothing may be open around it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, connection

T = TypeVar("T")

# PostgreSQL: deadlock_detected, serialization_failure.
_RETRY_SQLSTATES = {"40P01", "40001"}


def is_transient(error: OperationalError) -> bool:
    """Whether running the same transaction again may well succeed."""
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) in _RETRY_SQLSTATES:
        return True
    return "database is locked" in str(error)


def transaction_retried(run: Callable[[], T], *, attempts: int = 4) -> T:
    """``run()``, run again (up to ``attempts`` times in all, with a short random
    pause) while the database aborts it for a transient reason."""
    for attempt in range(1, attempts + 1):
        try:
            return run()
        except OperationalError as error:
            if attempt == attempts or connection.in_atomic_block or not is_transient(error):
                raise
            time.sleep(random.uniform(0.01, 0.05) * attempt)
    raise AssertionError("unreachable")
