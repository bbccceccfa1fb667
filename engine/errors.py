"""Errors the engine raises, mapped to HTTP codes in one place by webforms.

    EngineError                   anything the engine refuses to do
     ├── NotFound                 no such ticket, task, instance, process, user (404)
     ├── Forbidden                the user may not do this (403)
     │    └── TooManyAttempts     sign-in refused for a while after failed tries (429)
     ├── Conflict                 the state moved on: task already done, stale revision (409)
     ├── Invalid                  bad input: form field errors, bad parameters (422)
     │    └── InvalidDefinition   a BPMN/DMN bundle that cannot be deployed (422)
     └── ScriptError              a diagram's script or expression failed at run time (422)

Context is passed keyword-only, so a handler can render it without parsing text.
"""

from __future__ import annotations

from datetime import datetime


class EngineError(Exception):
    """Base class: the engine refused a request. ``code`` is a stable identifier."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict:
        return {"error": self.code, "message": self.message}


class NotFound(EngineError):
    """Raised when the thing asked for does not exist (or is not visible)."""

    code = "not_found"


class Forbidden(EngineError):
    """Raised when the user lacks the role, or the task belongs to someone else."""

    code = "forbidden"


class TooManyAttempts(Forbidden):
    """Raised when a client failed to sign in too often; ``retry_after`` says in how many seconds to try again.

    A ``Forbidden`` so sign-in pages that show a refused login show this one too.
    """

    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def to_dict(self) -> dict:
        return {**super().to_dict(), "retry_after": self.retry_after}


class Conflict(EngineError):
    """Raised when the state has moved on: a task already completed or cancelled.

    ``by`` and ``at`` say who completed it and when, so the second person sees
    "already done by …" instead of a generic failure.
    """

    code = "conflict"

    def __init__(self, message: str, *, by: str | None = None, at: datetime | None = None) -> None:
        super().__init__(message)
        self.by = by
        self.at = at

    def to_dict(self) -> dict:
        d = super().to_dict()
        if self.by:
            d["by"] = self.by
        if self.at:
            d["at"] = self.at.isoformat()
        return d


class Invalid(EngineError):
    """Raised for bad input. ``fields`` maps a field id to a list of messages."""

    code = "invalid"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}

    def to_dict(self) -> dict:
        d = super().to_dict()
        if self.fields:
            d["fields"] = self.fields
        return d


class InvalidDefinition(Invalid):
    """Raised when a BPMN/DMN bundle cannot be parsed or validated.

    ``problems`` lists dicts with ``file``, ``element`` (an id, may be None) and
    ``message``; nothing is stored when this is raised.
    """

    code = "invalid_definition"

    def __init__(self, message: str, *, problems: list[dict] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["problems"] = self.problems
        return d


class ScriptError(EngineError):
    """Raised when a script or expression in a diagram fails or is refused by the sandbox."""

    code = "script_error"

    def __init__(self, message: str, *, element: str | None = None) -> None:
        super().__init__(message)
        self.element = element

    def to_dict(self) -> dict:
        d = super().to_dict()
        if self.element:
            d["element"] = self.element
        return d
