"""Where a form may send the browser next: only a path on this site.

Sign-in, the language switch, marking notifications read and claiming tasks take a
``next`` from the request. Browsers are generous readers of a ``Location``:
``////host``, ``/\\host`` and ``/<tab>/host`` all lead to another site, and a CR/LF
would end the header. So a target is followed only when it is a plain path on this
site: one leading slash, no scheme or host, no backslash, no control characters or
spaces; anything else goes to the page's own default.
"""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_LENGTH = 2000


def safe_next(target: str | None, fallback: str) -> str:
    """``target`` when it is a same-site path, else ``fallback``."""
    if not isinstance(target, str) or not target or len(target) > MAX_LENGTH:
        return fallback
    if not target.startswith("/") or target[1:2] in ("/", "\\") or "\\" in target:
        return fallback
    if any(ord(ch) <= 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target
