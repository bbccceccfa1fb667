"""The attachment file store as the web app sees it: where it is, how large a file may be,
and how a stored file goes back to a browser without becoming a page.

Every download carries ``X-Content-Type-Options: nosniff`` and a CSP that allows
nothing to run; only the image kinds in ``attachments.SAFE_INLINE`` are shown inline,
everything else is a download (``Content-Disposition: attachment``).
"""

from __future__ import annotations

import io
from pathlib import Path

from flask import current_app, request, send_file

from engine.desk import attachments
from engine.models import Attachment


def store() -> Path:
    return Path(current_app.config["DESK_ATTACHMENTS_DIR"])


def max_bytes() -> int:
    return int(current_app.config["DESK_ATTACHMENT_MAX_BYTES"])


def upload() -> tuple[str, bytes]:
    """The ``file`` field of a multipart request: (name, bytes), read no further than the limit allows."""
    sent = request.files.get("file")
    if sent is None:
        return "", b""
    return sent.filename or "", sent.stream.read(max_bytes() + 1)


def send(row: Attachment):
    path = attachments.read(row, store())
    inline = row.content_type in attachments.SAFE_INLINE
    # read whole (files are small, see DESK_ATTACHMENT_MAX_BYTES): no file handle outlives the request
    response = send_file(io.BytesIO(path.read_bytes()), mimetype=row.content_type, as_attachment=not inline,
                         download_name=row.filename, etag=row.sha256, conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response.headers["Cache-Control"] = "private, no-cache"
    return response
