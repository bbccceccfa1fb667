"""Hostile input stops at the door, before any view reads it (issue 11).

Views read arguments, forms and JSON bodies in many places; the checks every one of
them needs are made once here, for pages and the API alike, and answered as an
``Invalid`` (422 naming the field, nothing changed):

- NUL characters in a path segment, a query argument, a form field, an uploaded
  file's name or any string of a JSON body: PostgreSQL refuses to store them, and
  no person types one;
- numbers in a JSON body past ±2⁵³ (or NaN/Infinity, which Python's parser takes): as an
  id they overflow the database driver;
- JSON bodies nested deeper than ``MAX_JSON_DEPTH`` (Python's parser would run out
  of stack on a few thousand brackets, which is a 500), and on the API any body that
  is not a JSON object (an alert source posts lists and has its own reader);
- ``page`` and ``per_page`` arguments that are not whole numbers in range (an
  offset past 2⁶³ makes the database fail, not answer "nothing").

Integers in paths (``/tickets/<int:…>``) are bounded by ``IdConverter``: a number
no row can have is simply not found (404) instead of overflowing the database driver.
Column lengths and NULs that reach the database by other paths (mail, CLI, scripts)
are checked in ``engine.db`` before every flush.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.routing import IntegerConverter

from engine.errors import Invalid

MAX_ID = 2**31 - 1  # the largest value of an INTEGER column on PostgreSQL
MAX_JSON_DEPTH = 32
MAX_JSON_BYTES = 8 * 1024 * 1024  # larger bodies are the view's business (and its own limit)
MAX_PAGE = 1_000_000
PAGING = {"page": MAX_PAGE, "per_page": 10_000}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# endpoints that read their body themselves, within their own size limit
OWN_BODY = {"api.receive_alerts"}
# endpoints whose form fields are judged one by one by the engine, so a bad field re-renders the form
FIELD_CHECKED = {"tasks.complete", "tickets.create"}

MAX_NUMBER = 2**53  # the largest integer a JSON client can count on; no desk field holds more
NUMBER_MESSAGE = f"数值超出范围（绝对值最大 {MAX_NUMBER}） / the number is out of range (at most {MAX_NUMBER} either way)"
NUL_MESSAGE = "不能包含空字符（\\0） / must not contain NUL characters"


class IdConverter(IntegerConverter):
    """``<int:…>`` in routes: a non-negative whole number no larger than an INTEGER column holds.

    A larger number becomes 0, which no row has (ids and version numbers start at 1), so
    the view answers 404. Refusing it in the converter instead (``max=``) made Werkzeug
    answer 405 wherever another method's rule shares the path (its matcher reports the
    methods it saw before the failed conversion): ``PUT /api/onsite/5640884597``.
    """

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number <= MAX_ID else 0


def init_app(app: Flask) -> None:
    """Call before the blueprints are registered: their rules take the converter when added."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(check_request)


def check_request() -> None:
    fields: dict[str, list[str]] = {}
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and "\x00" in value:
            fields[name] = [NUL_MESSAGE]
    for name, values in request.args.lists():
        if _has_nul(name) or any(_has_nul(v) for v in values):
            fields[_printable(name)] = [NUL_MESSAGE]
        elif name in PAGING:
            problem = _paging_problem(values[-1], PAGING[name])
            if problem:
                fields[name] = [problem]
    if request.endpoint not in OWN_BODY:
        if request.mimetype in FORM_TYPES and request.endpoint not in FIELD_CHECKED:
            _check_form(fields)
        elif request.is_json and (request.content_length or 0) <= MAX_JSON_BYTES:
            problem = _check_json(fields)
            if problem:
                raise Invalid(problem, fields=fields or None)
    if fields:
        names = ", ".join(sorted(fields))
        raise Invalid(f"请求中有无效的值：{names} / the request has invalid values: {names}", fields=fields)


def _check_form(fields: dict[str, list[str]]) -> None:
    for name, values in request.form.lists():
        if _has_nul(name) or any(_has_nul(v) for v in values):
            fields[_printable(name)] = [NUL_MESSAGE]
    for name, upload in request.files.items(multi=True):
        if _has_nul(upload.filename or ""):
            fields[_printable(name)] = ["文件名" + NUL_MESSAGE]


def _check_json(fields: dict[str, list[str]]) -> str | None:
    """A message for a body that cannot be taken at all; field problems go into ``fields``."""
    try:
        body = request.get_json(silent=True)  # cached: the view gets the same object
    except RecursionError:
        return f"JSON 嵌套过深（最多 {MAX_JSON_DEPTH} 层）/ the JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels)"
    if body is None:
        return None  # malformed or empty: the view says what it expected
    if request.path.startswith("/api/") and not isinstance(body, dict):
        return "请求体应为 JSON 对象 / the request body must be a JSON object"
    stack: list[tuple[str, object, int]] = [("", body, 1)]
    while stack:
        path, value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"JSON 嵌套过深（最多 {MAX_JSON_DEPTH} 层）/ the JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels)"
        if isinstance(value, str):
            if "\x00" in value:
                fields[path or "body"] = [NUL_MESSAGE]
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if not -MAX_NUMBER <= value <= MAX_NUMBER:  # NaN fails this too
                fields[path or "body"] = [NUMBER_MESSAGE]
        elif isinstance(value, dict):
            for key, item in value.items():
                name = f"{path}.{key}" if path else str(key)
                if "\x00" in key:
                    fields[_printable(name)] = [NUL_MESSAGE]
                stack.append((_printable(name), item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item, depth + 1) for i, item in enumerate(value))
    return None


def _paging_problem(raw: str, largest: int) -> str | None:
    raw = raw.strip()
    if raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= largest:
        return f"应为 1 到 {largest} 之间的整数 / must be a whole number from 1 to {largest}"
    return None


def _has_nul(text: str) -> bool:
    return "\x00" in text


def _printable(name: str) -> str:
    return name.replace("\x00", "\\0")
