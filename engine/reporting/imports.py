"""History import: a desk moving to us from an Excel ledger (工单台账) brings its tickets, and the
telephone exchange's records bring the calls that ``answer_rate`` is computed from.

Imported tickets are history records: no process instance, their status follows their
timestamps, and they fill the same columns the engine stamps, so every KPI counts them
exactly like the tickets the desk ran itself. A file is all or nothing: any bad row is
reported with its line and reason and nothing is imported. Rows whose number (call id)
is already there are skipped, so importing the same file twice adds nothing.

Times are ``YYYY-MM-DD HH:MM[:SS]`` local (Asia/Shanghai) or ISO with an offset; an Excel
date cell is read as local time.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..desk.tickets import LOCAL_TZ, missing_fields
from ..errors import Invalid
from ..models import Call, Ticket, TicketStatus

# canonical column → (the Chinese labels accepted for it, longest text the column holds)
TICKET_COLUMNS = {
    "number": (("工单编号", "编号"), 32), "type": (("类型", "工单类型"), 20), "channel": (("渠道", "来源"), 20),
    "priority": (("优先级", "级别"), 4), "category": (("分类", "类别"), 80), "organisation": (("单位",), 200),
    "reporter_name": (("报告人", "报告人姓名"), 120), "phone": (("电话", "联系电话"), 60),
    "email": (("邮箱", "电子邮件"), 200), "device_model": (("设备型号",), 120),
    "device_serial": (("设备序列号", "序列号"), 120), "title": (("标题",), 300), "description": (("描述", "问题描述"), None),
    "qualified": (("合格",), None), "occurred_at": (("发生时间",), None), "accepted_at": (("受理时间",), None),
    "responded_at": (("响应时间",), None), "handoff_at": (("转后线时间",), None),
    "returned": (("退回项目经理次数", "退回次数"), None), "resolved_at": (("解决时间",), None),
    "resolved_role": (("解决角色",), 40), "engineer": (("运维工程师", "工程师"), 80),
    "closed_at": (("关闭时间",), None), "callback_at": (("回访时间",), None), "satisfaction": (("满意度",), None),
    "complaint_about": (("投诉工单", "被投诉工单"), 32),
}  # fmt: skip
CALL_COLUMNS = {
    "call_id": (("呼叫编号", "通话编号"), 64), "ring_at": (("振铃时间", "来电时间"), None),
    "answered_at": (("接听时间",), None), "agent": (("坐席", "接听人"), 80), "caller": (("主叫", "来电号码"), 60),
}  # fmt: skip
TICKET_TIMES = ("occurred_at", "accepted_at", "responded_at", "handoff_at", "resolved_at", "closed_at", "callback_at")
TYPES = {"incident": "incident", "request": "request", "consultation": "consultation", "complaint": "complaint",
         "事件": "incident", "故障": "incident", "服务请求": "request", "咨询": "consultation", "投诉": "complaint"}
SATISFACTION = {"very_satisfied": "very_satisfied", "satisfied": "satisfied", "basically_satisfied": "basically_satisfied",
                "dissatisfied": "dissatisfied", "非常满意": "very_satisfied", "满意": "satisfied",
                "基本满意": "basically_satisfied", "不满意": "dissatisfied"}
FLAGS = {"1": True, "0": False, "true": True, "false": False, "是": True, "否": False, "yes": True, "no": False}
TIME = re.compile(r"\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?( ?(Z|[+-]\d{2}:?\d{2}))?")
SAMPLE = 20


@dataclass
class ImportResult:
    """What a file holds: rows to add, rows already there, errors by line, columns ignored."""

    kind: str
    total: int = 0
    new: list[dict] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "total": self.total, "new": len(self.new), "existing": len(self.existing),
                "errors": [{"line": line, "reason": reason} for line, reason in self.errors],
                "ignored_columns": self.ignored_columns,
                "sample": [{k: (v.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, datetime) else v)
                            for k, v in row.items()}
                           for row in self.new[:SAMPLE]]}


def _cells(filename: str, data: bytes) -> list[list]:
    """The first sheet of an .xlsx, or a CSV (UTF-8, with or without BOM; GB18030 as Excel in China writes it)."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several kinds for a file that is not a workbook
            raise Invalid(f"无法读取 Excel 文件 / cannot read the workbook: {exc}", fields={"file": [filename]}) from None
        rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
        book.close()
        return rows
    if name.endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise Invalid("CSV 文件编码无法识别 / cannot decode the CSV", fields={"file": [filename]})
        return list(csv.reader(io.StringIO(text)))
    raise Invalid("请上传 .csv 或 .xlsx 文件 / upload a .csv or .xlsx file", fields={"file": [filename]})


def _rows(filename: str, data: bytes, columns: dict, result: ImportResult) -> list[tuple[int, dict]]:
    """(line, {canonical column: cell}) for every non-empty row under the header row."""
    cells = _cells(filename, data)
    if not cells:
        raise Invalid("文件是空的 / the file is empty", fields={"file": [filename]})
    names = {}
    for canonical, (labels, _size) in columns.items():
        names[canonical] = canonical
        for label in labels:
            names[label] = canonical
    header = []
    for cell in cells[0]:
        text = str(cell or "").strip()
        key = names.get(text) or names.get(text.lower()) or names.get(re.sub(r"[（(].*[)）]$", "", text).strip())
        header.append(key)
        if key is None and text:
            result.ignored_columns.append(text)
    out = []
    for line, row in enumerate(cells[1:], start=2):
        if all(c is None or str(c).strip() == "" for c in row):
            continue
        out.append((line, {key: row[i] if i < len(row) else None for i, key in enumerate(header) if key}))
    return out


def parse_time(value) -> datetime | None:
    """A ledger time as aware UTC: local unless it carries an offset. Raises ValueError when unreadable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip().replace("/", "-")
        if not TIME.fullmatch(text):
            raise ValueError(f"时间格式应为 YYYY-MM-DD HH:MM[:SS] / a time YYYY-MM-DD HH:MM[:SS]: {value}")
        text = re.sub(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):", lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d} {int(m[4]):02d}:", text)
        moment = datetime.fromisoformat(text.replace(" Z", "Z").replace("Z", "+00:00").replace(" +", "+").replace(" -", "-"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment.astimezone(timezone.utc)


def _text(row: dict, key: str, columns: dict, problems: list[str]) -> str:
    value = row.get(key)
    if value is None:
        return ""
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip()
    size = columns[key][1]
    if size and len(text) > size:
        problems.append(f"{key} 超过 {size} 个字符 / {key} is longer than {size} characters")
    return text


def _ticket(row: dict, problems: list[str]) -> dict:
    data = {key: _text(row, key, TICKET_COLUMNS, problems) for key in TICKET_COLUMNS if key not in TICKET_TIMES}
    for key in TICKET_TIMES:
        try:
            data[key] = parse_time(row.get(key))
        except ValueError as exc:
            problems.append(f"{key}: {exc}")
            data[key] = None
    if not data["number"]:
        problems.append("缺少工单编号 / number is required")
    data["type"] = TYPES.get(data["type"].lower(), TYPES.get(data["type"]))
    if data["type"] is None:
        problems.append("类型应为 事件/服务请求/咨询/投诉 / type must be incident, request, consultation or complaint")
    data["priority"] = data["priority"].upper()
    if data["priority"] not in ("", "P1", "P2", "P3", "P4"):
        problems.append("优先级应为 P1–P4 / priority must be P1–P4")
    if row.get("accepted_at") in (None, "") and not any("accepted_at" in p for p in problems):
        problems.append("缺少受理时间 / accepted_at is required")
    returned = data.pop("returned") or "0"
    if not returned.isdigit():
        problems.append("退回次数应为非负整数 / returned must be a whole number ≥ 0")
    data["returned"] = int(returned) if returned.isdigit() else 0
    qualified = data.pop("qualified").lower()
    if qualified and qualified not in FLAGS:
        problems.append("合格应为 1 或 0 / qualified must be 1 or 0")
    satisfaction = data["satisfaction"]
    data["satisfaction"] = SATISFACTION.get(satisfaction.lower(), SATISFACTION.get(satisfaction)) if satisfaction else None
    if satisfaction and data["satisfaction"] is None:
        problems.append("满意度应为 非常满意/满意/基本满意/不满意 / satisfaction must be one of the four levels")
    accepted = data["accepted_at"]
    for key in ("responded_at", "handoff_at", "resolved_at", "closed_at", "callback_at"):
        if accepted and data[key] and data[key] < accepted:
            problems.append(f"{key} 早于受理时间 / {key} is before accepted_at")
    if data["complaint_about"] and data["type"] != "complaint":
        problems.append("只有投诉工单可填被投诉工单 / complaint_about is for complaints only")
    for key in ("resolved_role", "engineer", "complaint_about"):
        data[key] = data[key] or None
    # an empty `qualified` leaves it to the intake's own completeness rule
    data["missing_fields"] = missing_fields({**data, "occurred_at": data["occurred_at"]})
    data["qualified"] = FLAGS[qualified] if qualified in FLAGS else not data["missing_fields"]
    if data["qualified"]:
        data["missing_fields"] = []
    data["status"] = (TicketStatus.CLOSED if data["closed_at"] else
                      TicketStatus.RESOLVED if data["resolved_at"] else TicketStatus.OPEN)
    return data


def _call(row: dict, problems: list[str]) -> dict:
    data = {key: _text(row, key, CALL_COLUMNS, problems) for key in ("call_id", "agent", "caller")}
    for key in ("ring_at", "answered_at"):
        try:
            data[key] = parse_time(row.get(key))
        except ValueError as exc:
            problems.append(f"{key}: {exc}")
            data[key] = None
    if not data["call_id"]:
        problems.append("缺少呼叫编号 / call_id is required")
    if data["ring_at"] is None and not any("ring_at" in p for p in problems):
        problems.append("缺少振铃时间 / ring_at is required")
    if data["ring_at"] and data["answered_at"] and data["answered_at"] < data["ring_at"]:
        problems.append("接听时间早于振铃时间 / answered_at is before ring_at")
    return data


def _existing(session: Session, column, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        found.update(session.scalars(select(column).where(column.in_(keys[i:i + 500]))))
    return found


def preview(session: Session, kind: str, filename: str, data: bytes) -> ImportResult:
    """Read and check a file without changing anything."""
    if kind not in ("tickets", "calls"):
        raise Invalid(f"未知的导入类型 {kind} / unknown import {kind}", fields={"kind": ["tickets", "calls"]})
    result = ImportResult(kind)
    columns, build, key, column = ((TICKET_COLUMNS, _ticket, "number", Ticket.number) if kind == "tickets"
                                   else (CALL_COLUMNS, _call, "call_id", Call.call_id))
    rows = _rows(filename, data, columns, result)
    result.total = len(rows)
    required = ("number", "type", "accepted_at") if kind == "tickets" else ("call_id", "ring_at")
    seen_columns = set().union(*(r.keys() for _, r in rows)) if rows else set()
    for name in required:
        if name not in seen_columns:
            result.errors.append((1, f"缺少列 {name} / the column {name} is missing"))
    if result.errors:
        return result
    parsed, seen = [], {}
    for line, row in rows:
        problems: list[str] = []
        record = build(row, problems)
        if record[key] in seen:
            problems.append(f"与第 {seen[record[key]]} 行重复 / the same {key} as line {seen[record[key]]}")
        seen.setdefault(record[key], line)
        result.errors += [(line, p) for p in problems]
        parsed.append((line, record))
    keys = [record[key] for _, record in parsed if record[key]]
    there = _existing(session, column, keys)
    if kind == "tickets":
        named = {r["complaint_about"] for _, r in parsed if r["complaint_about"]}
        known = set(keys) | _existing(session, Ticket.number, sorted(named))
        result.errors += [(line, f"被投诉工单 {r['complaint_about']} 不存在 / no ticket {r['complaint_about']}")
                          for line, r in parsed if r["complaint_about"] and r["complaint_about"] not in known]
    result.errors.sort()
    result.new = [record for _, record in parsed if record[key] not in there]
    result.existing = [record[key] for _, record in parsed if record[key] in there]
    return result


def run(session: Session, kind: str, filename: str, data: bytes, *, user: str) -> ImportResult:
    """Import the file, all or nothing: ``Invalid`` with every bad line, or every new row added."""
    result = preview(session, kind, filename, data)
    if result.errors:
        fields = {f"line {line}": [reason] for line, reason in result.errors[:200]}
        raise Invalid(f"文件有 {len(result.errors)} 处错误，未导入任何数据 / {len(result.errors)} problems; nothing imported",
                      fields=fields)
    for record in result.new:
        if kind == "tickets":
            session.add(Ticket(**record, created_by=f"import:{user}"))
        else:
            session.add(Call(**record, imported_by=user))
    session.flush()
    return result
