"""Files kept with a ticket: screenshots, logs, PDFs, the customer's signature.

The bytes live in a file store (a folder, by default under the instance folder),
named by their SHA-256 so a file is written once however often it is attached and
a rolled-back upload leaves at most an unreferenced copy, never a broken row.

A file is accepted only when its *content* is one of the kinds the desk expects and
agrees with its name: a ``.png`` must start like a PNG, a ``.log`` must be text. HTML,
SVG and scripts are never accepted, because a browser could run them. Which kinds a
browser may show inline (``SAFE_INLINE``) is decided here too; webforms turns that into
headers.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import now
from ..errors import Invalid, NotFound
from ..models import Attachment, Ticket
from . import audit

DEFAULT_MAX_BYTES = 10 * 1024 * 1024

OOXML = "application/vnd.openxmlformats-officedocument."
# extension → (content type, the family its content must belong to)
KINDS = {
    "png": ("image/png", "png"),
    "jpg": ("image/jpeg", "jpeg"),
    "jpeg": ("image/jpeg", "jpeg"),
    "gif": ("image/gif", "gif"),
    "webp": ("image/webp", "webp"),
    "pdf": ("application/pdf", "pdf"),
    "zip": ("application/zip", "zip"),
    "docx": (OOXML + "wordprocessingml.document", "zip"),
    "xlsx": (OOXML + "spreadsheetml.sheet", "zip"),
    "pptx": (OOXML + "presentationml.presentation", "zip"),
    "doc": ("application/msword", "ole"),
    "xls": ("application/vnd.ms-excel", "ole"),
    "ppt": ("application/vnd.ms-powerpoint", "ole"),
    "gz": ("application/gzip", "gzip"),
    "tgz": ("application/gzip", "gzip"),
    "txt": ("text/plain", "text"),
    "log": ("text/plain", "text"),
    "csv": ("text/csv", "text"),
    "json": ("application/json", "text"),
    "conf": ("text/plain", "text"),
    "cfg": ("text/plain", "text"),
    "ini": ("text/plain", "text"),
    "yaml": ("text/plain", "text"),
    "yml": ("text/plain", "text"),
}
SAFE_INLINE = {"image/png", "image/jpeg", "image/gif", "image/webp"}
MAGIC = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "pdf": (b"%PDF-",),
    "zip": (b"PK\x03\x04", b"PK\x05\x06"),
    "ole": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    "gzip": (b"\x1f\x8b",),
}
# text that a browser would treat as markup or script, even when sent as text/plain by mistake
MARKUP = re.compile(rb"^\s*(<!doctype|<html|<script|<svg|<\?xml)", re.IGNORECASE)


def family_of(data: bytes) -> str | None:
    """The kind of content, judged by its first bytes (never by its name)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    for family, signatures in MAGIC.items():
        if data.startswith(signatures):
            return family
    head = data[:8192]
    if b"\x00" in head or MARKUP.match(head):
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            head.decode(encoding)
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # a character cut at the 8 KB mark
                return "text"
            continue
        return "text"
    return None


def clean_name(filename: str) -> str:
    """The file's own name without folders or control characters, at most 200 characters."""
    name = os.path.basename(str(filename or "").replace("\\", "/"))
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 199 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else name[:200]
    return name


def check(filename: str, data: bytes, *, max_bytes: int) -> tuple[str, str]:
    """(clean name, content type) for an acceptable file, else Invalid naming the ``file`` field."""
    name = clean_name(filename)
    if not name:
        raise Invalid("请选择文件 / no file given", fields={"file": ["必填 / required"]})
    if not data:
        raise Invalid("文件是空的 / the file is empty", fields={"file": ["空文件 / empty file"]})
    if len(data) > max_bytes:
        limit = f"{max_bytes / 1024 / 1024:.1f} MB"
        raise Invalid(f"文件超过 {limit} / the file is larger than {limit}", fields={"file": [f"最大 {limit} / at most {limit}"]})
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    if ext not in KINDS:
        allowed = ", ".join(sorted(KINDS))
        raise Invalid(f"不支持的文件类型 / file type not accepted (allowed: {allowed})",
                      fields={"file": [f"不支持 .{ext or '?'} / .{ext or '?'} not accepted"]})
    content_type, family = KINDS[ext]
    if family_of(data) != family:
        raise Invalid("文件内容与扩展名不符 / the file's content does not match its name",
                      fields={"file": [f"内容不是 .{ext} / content is not .{ext}"]})
    return name, content_type


def path_in(store: Path, sha256: str) -> Path:
    return Path(store) / sha256[:2] / sha256


def _write(store: Path, sha256: str, data: bytes) -> None:
    target = path_in(store, sha256)
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(data)
    os.replace(partial, target)  # readers never see half a file


def add(
    session: Session,
    ticket: Ticket,
    filename: str,
    data: bytes,
    *,
    actor: str,
    store: Path,
    max_bytes: int = DEFAULT_MAX_BYTES,
    kind: str = "file",
) -> Attachment:
    """Check, store and record a file on the ticket, with its audit event."""
    name, content_type = check(filename, data, max_bytes=max_bytes)
    sha256 = hashlib.sha256(data).hexdigest()
    _write(store, sha256, data)
    row = Attachment(ticket_id=ticket.id, kind=kind, filename=name, content_type=content_type, size=len(data),
                     sha256=sha256, uploaded_by=actor, uploaded_at=now())
    session.add(row)
    session.flush()
    audit.record(session, "attachment", actor=actor, instance_id=ticket.instance_id, ticket_id=ticket.id, name=name,
                 data={"attachment_id": row.id, "filename": name, "size": row.size, "content_type": content_type,
                       "kind": kind})
    return row


def of_ticket(session: Session, ticket_id: int, *, kind: str | None = "file") -> list[Attachment]:
    """The ticket's files, oldest first (``kind=None``: signatures too)."""
    stmt = select(Attachment).where(Attachment.ticket_id == ticket_id)
    if kind is not None:
        stmt = stmt.where(Attachment.kind == kind)
    return list(session.scalars(stmt.order_by(Attachment.uploaded_at, Attachment.id)))


def get(session: Session, attachment_id: int) -> Attachment:
    row = session.get(Attachment, attachment_id)
    if row is None:
        raise NotFound(f"附件 {attachment_id} 不存在 / no attachment {attachment_id}")
    return row


def read(row: Attachment, store: Path) -> Path:
    """The stored file's path; NotFound when the store lost it."""
    path = path_in(store, row.sha256)
    if not path.is_file():
        raise NotFound(f"附件 {row.filename} 的文件不在存储中 / the file of {row.filename} is missing from the store")
    return path
