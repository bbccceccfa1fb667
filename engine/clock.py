"""The one clock our own code reads.

SpiffWorkflow calls ``datetime.now(timezone.utc)`` itself; so do we, through this
function, so that time-machine moves both together in tests.
"""

from datetime import datetime, timezone


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)
