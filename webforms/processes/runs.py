"""At most two validate/test runs at once per user, across every web worker on this machine.

Validating a bundle and running its process tests evaluate the owner's own
diagram code; the sandbox bounds each evaluation (``engine.runtime.jail``), but
a user who fires off dozens of runs at once could still keep every web worker
busy. Each run holds one of ``MAX_PER_USER`` lock files for its user
(``flock``, so the lock holds across gunicorn's worker processes and is freed by
the kernel if a worker dies); a run that finds them all taken is answered at
once with 429 and a message, never queued.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path

from flask import current_app, jsonify
from flask_babel import gettext as _

from ..auth import staff

MAX_PER_USER = 2


class Busy(Exception):
    """All of the user's run slots are taken."""


def _folder() -> Path:
    folder = Path(current_app.config.get("DESK_RUN_LOCKS") or Path(current_app.instance_path) / "run-locks")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def slot(user_id: int) -> Iterator[None]:
    """Hold one of the user's run slots for the ``with`` block; Busy when none is free."""
    folder = _folder()
    for number in range(MAX_PER_USER):
        fd = os.open(folder / f"user-{int(user_id)}-{number}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            yield
            return
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
    raise Busy


def limited(view):
    """A validate/test view that runs in one of the user's slots, or answers 429."""

    @wraps(view)
    def run(*args, **kwargs):
        try:
            with slot(staff().id):
                return view(*args, **kwargs)
        except Busy:
            body = {"error": "too_many_runs",
                    "message": _("You already have %(n)s validations or tests running; wait for them to finish.",
                                 n=MAX_PER_USER)}
            return jsonify(body), 429, {"Retry-After": "5"}

    return run
