"""Parse uploaded BPMN/DMN safely.

A diagram needs no DTD, so any document with a DOCTYPE (or an ENTITY
declaration) is refused before lxml sees it — that rules out XXE (external
entities reading files or URLs), billion-laughs entity expansion and external
DTD fetches in one check. The parser is also configured not to resolve
entities, load DTDs, touch the network or accept huge trees, and
``docinfo.doctype`` is checked again after parsing.
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

from ..errors import InvalidDefinition

__all__ = ["MAX_BYTES", "parse_xml", "upload_text"]

MAX_BYTES = 5 * 1024 * 1024  # 5 MiB

_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_DECLARATION_TEXT = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_XML_DECL_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?\sencoding\s*=\s*)(["'])[^"']*\2""")

# Byte-order marks and the XML spec's (appendix F) autodetection patterns for
# encodings that are not ASCII-compatible: scanning their raw bytes for
# "<!DOCTYPE" would miss it, so they are decoded first.
_WIDE_ENCODINGS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"),
]
_EBCDIC = b"\x4c\x6f\xa7\x94"  # "<?xm" in EBCDIC


def local_name(node) -> str:
    """An element's tag without its namespace ("" for comments and processing instructions)."""
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _problem(filename: str, message: str) -> dict:
    return {"file": filename, "element": None, "message": message}


def _refuse(filename: str, message: str) -> InvalidDefinition:
    return InvalidDefinition(f"{filename}: {message}", problems=[_problem(filename, message)])


def _to_bytes(content: bytes | str) -> bytes:
    if isinstance(content, str):
        # lxml refuses str input that declares an encoding; the text is Unicode, so say UTF-8
        content = _XML_DECL_ENCODING.sub(r"\1\2UTF-8\2", content, count=1)
        return content.encode("utf-8")
    if isinstance(content, (bytearray, memoryview)):
        return bytes(content)
    if isinstance(content, bytes):
        return content
    raise TypeError(f"XML content must be bytes or str, not {type(content).__name__}")


def _declaration_line(raw: bytes, filename: str) -> int | None:
    """Line number (1-based) of a DOCTYPE/ENTITY declaration in ``raw``, or None."""
    head = raw[:4]
    if head == _EBCDIC:
        raise _refuse(filename, "EBCDIC-encoded XML is not supported; save the file as UTF-8")
    for marker, encoding in _WIDE_ENCODINGS:
        if raw.startswith(marker):
            text = raw.decode(encoding, errors="replace")
            match = _DECLARATION_TEXT.search(text)
            return text.count("\n", 0, match.start()) + 1 if match else None
    # ASCII-compatible (UTF-8, Latin-1, GB18030, …): "<!DOCTYPE" is the same bytes in all of them
    match = _DECLARATION.search(raw)
    return raw.count(b"\n", 0, match.start()) + 1 if match else None


def upload_text(content: bytes | str, filename: str, *, xml: bool = True) -> str:
    """An uploaded file as UTF-8 text, checked before it is kept (a draft, a label table).

    Refused with :class:`InvalidDefinition` (a 422 naming ``filename``): more than
    :data:`MAX_BYTES`, an encoding other than UTF-8 (UTF-16, UTF-32, EBCDIC, bytes that
    are not UTF-8: the modeler and the desk store and show UTF-8 only), NUL characters,
    and for XML (``xml=True``) any DOCTYPE or ENTITY declaration — XXE and entity bombs
    are refused when uploaded, not only when deployed. Well-formedness is left to the
    validation a draft goes through, so work in progress can still be saved.
    """
    raw = content.encode("utf-8") if isinstance(content, str) else _to_bytes(content)
    if len(raw) > MAX_BYTES:
        raise _refuse(filename, f"file is {len(raw)} bytes; the limit is {MAX_BYTES} bytes (5 MiB)")
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    if raw[:4] == _EBCDIC or any(raw.startswith(marker) for marker, _ in _WIDE_ENCODINGS):
        raise _refuse(filename, "the file is not UTF-8 (UTF-16, UTF-32 or EBCDIC); save it as UTF-8")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refuse(filename, f"byte {exc.start}: the file is not valid UTF-8; save it as UTF-8") from None
    if "\x00" in text:
        raise _refuse(filename, f"line {text.count(chr(10), 0, text.index(chr(0))) + 1}: NUL characters are not allowed")
    if xml:
        line = _declaration_line(raw, filename)
        if line is not None:
            raise _refuse(filename, f"line {line}: DOCTYPE and ENTITY declarations are not allowed")
    return text


def _parser() -> etree.XMLParser:
    # a new parser per call: lxml parsers must not be shared between threads
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


def parse_xml(content: bytes | str, filename: str) -> etree._Element:
    """Parse an uploaded BPMN/DMN document and return its root element.

    Raises :class:`InvalidDefinition` (one problem naming ``filename``) for a
    file over :data:`MAX_BYTES`, any DOCTYPE/ENTITY declaration, or malformed XML
    (the message starts with lxml's line number: ``"line 3: …"``).
    """
    raw = _to_bytes(content)
    if len(raw) > MAX_BYTES:
        raise _refuse(filename, f"file is {len(raw)} bytes; the limit is {MAX_BYTES} bytes (5 MiB)")
    line = _declaration_line(raw, filename)
    if line is not None:
        raise _refuse(filename, f"line {line}: DOCTYPE and ENTITY declarations are not allowed")
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        line_number = exc.lineno or (exc.position[0] if exc.position else None) or 1
        message = exc.msg or str(exc)
        raise _refuse(filename, f"line {line_number}: {message}") from None
    except (ValueError, LookupError) as exc:  # e.g. an unknown encoding in the XML declaration
        raise _refuse(filename, f"line 1: {exc}") from None
    if root is None:
        raise _refuse(filename, "line 1: the document is empty")
    if root.getroottree().docinfo.doctype:
        raise _refuse(filename, "DOCTYPE declarations are not allowed")
    return root
