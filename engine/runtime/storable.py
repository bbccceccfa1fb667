"""What a script may leave in task data: values the desk can store, as JSON.

Task data is saved as JSON (``serialization.dump_state``) and shown through JSON
answers, so a script or expression result must be plain data: None, bool, int,
finite float, str, lists (tuples become lists) and dicts with text keys, plus the
dates, times, ``Decimal`` and ``timedelta`` that ``serialization`` registers. An
iterator, a generator, bytes, a set, NaN or infinity, a function or any other
object would break the save (a 500) or print a bare ``NaN`` that no JSON reader
accepts; a huge value would bloat every later step. :func:`dumps` refuses them with
a :class:`NotStorable` that names the variable, so the person who wrote the
diagram knows what to fix.

It is also the wire format from the sandbox's child processes (``jail``): what
the child sends back is parsed as data, never unpickled.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal

#: A script's whole result (all task data after it) may not exceed this, as JSON text.
MAX_TOTAL_CHARS = 8_000_000
#: Nesting deeper than this is refused (JSON readers and the serializer recurse).
MAX_DEPTH = 64

_TAG = "__desk_type__"


class NotStorable(ValueError):
    """A value that task data cannot hold; ``name`` is the variable, ``zh``/``en`` say why."""

    def __init__(self, name: str, zh: str, en: str) -> None:
        super().__init__(f"{name}: {en}")
        self.name = name
        self.zh = zh
        self.en = en

    @property
    def message(self) -> str:
        return f"变量“{self.name}”的值无法保存：{self.zh} / the value of “{self.name}” cannot be stored: {self.en}"


class _Refused(ValueError):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


def _plain(value, depth: int):
    """``value`` as JSON-ready data; ValueError (the reason) when it is not storable."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Refused(f"{value!r} 不是有限数", f"{value!r} is not a finite number")
        return value
    if depth > MAX_DEPTH:
        raise _Refused(f"嵌套超过 {MAX_DEPTH} 层", f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, (list, tuple)):
        return [_plain(item, depth + 1) for item in value]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Refused(f"键 {key!r} 不是文本", f"the key {key!r} is not text")
            if key.startswith("__desk"):
                raise _Refused(f"键 {key!r} 为保留名", f"the key {key!r} is reserved")
            out[key] = _plain(item, depth + 1)
        return out
    if isinstance(value, datetime):
        return {_TAG: "datetime", "value": value.isoformat()}
    if isinstance(value, date):
        return {_TAG: "date", "value": value.isoformat()}
    if isinstance(value, time):
        return {_TAG: "time", "value": value.isoformat()}
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _Refused(f"{value} 不是有限数", f"{value} is not a finite number")
        return {_TAG: "decimal", "value": str(value)}
    if isinstance(value, timedelta):
        return {_TAG: "timedelta", "seconds": value.total_seconds()}
    kind = type(value).__name__
    raise _Refused(f"{kind} 类型的值", f"a value of type {kind}")


def plain(name: str, value):
    """``value`` as JSON-ready data, or NotStorable naming ``name``."""
    try:
        return _plain(value, 0)
    except _Refused as exc:
        raise NotStorable(name, exc.zh, exc.en) from None
    except RecursionError:
        raise NotStorable(name, "嵌套过深", "nested too deeply") from None


def dumps(values: dict) -> str:
    """``values`` (variable → value) as JSON text; NotStorable naming the first bad or the largest huge variable."""
    out = {name: plain(name, value) for name, value in values.items()}
    text = json.dumps(out, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    if len(text) > MAX_TOTAL_CHARS:
        sizes = {name: len(json.dumps(item, ensure_ascii=False)) for name, item in out.items()}
        largest = max(sizes, key=sizes.get)
        raise NotStorable(
            largest,
            f"数据过大（{sizes[largest]:,} 字符，全部数据上限 {MAX_TOTAL_CHARS:,}）",
            f"too large ({sizes[largest]:,} characters; all data may hold {MAX_TOTAL_CHARS:,})",
        )
    return text


def check(values: dict) -> None:
    """Refuse (NotStorable) what :func:`dumps` would refuse, for code run in this process."""
    dumps(values)


def _restore(obj: dict):
    kind = obj.get(_TAG)
    if kind is None:
        return obj
    if kind == "datetime":
        return datetime.fromisoformat(obj["value"])
    if kind == "date":
        return date.fromisoformat(obj["value"])
    if kind == "time":
        return time.fromisoformat(obj["value"])
    if kind == "decimal":
        return Decimal(obj["value"])
    if kind == "timedelta":
        return timedelta(seconds=obj["seconds"])
    raise ValueError(f"unknown stored type {kind!r}")


def loads(text: str) -> dict:
    """The values :func:`dumps` wrote."""
    return json.loads(text, object_hook=_restore)
