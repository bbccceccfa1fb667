"""User-task forms: one field definition, read from ``camunda:formData``.

The same ``FieldDef`` list feeds the HTML form (webforms builds WTForms from it),
the JSON API (``schema_for`` builds the marshmallow schema it validates with) and
the typed values written into task data (``validate``). Server-side validation
always runs here; whatever the browser checks is a convenience.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

import re2
from marshmallow import Schema, ValidationError, fields
from marshmallow import validate as mv
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Invalid
from ..models import Role, User

TYPES = ("string", "long", "boolean", "date", "enum")

log = logging.getLogger(__name__)
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


@lru_cache(maxsize=512)
def compile_pattern(pattern: str):
    """A diagram's field pattern, compiled by RE2; ValueError when RE2 cannot compile it.

    Python's ``re`` backtracks: ``^(a+)+$`` against ``'a' * 50 + '!'`` would run for
    ages in a request thread. RE2 matches in time linear in the input, at the price of
    backreferences and lookarounds, which validation refuses at deploy.
    """
    try:
        return re2.compile(pattern, options=_RE2_OPTIONS)
    except re2.error as exc:
        detail = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(detail) from None


@dataclass(frozen=True)
class FieldDef:
    id: str
    label: str
    type: str
    required: bool = False
    readonly: bool = False
    default: str | None = None
    options: tuple[tuple[str, str], ...] = ()
    min: float | None = None
    max: float | None = None
    minlength: int | None = None
    maxlength: int | None = None
    pattern: str | None = None
    widget: str | None = None
    role: str | None = None
    placeholder: str | None = None
    properties: tuple[tuple[str, str], ...] = field(default=())

    def to_dict(self) -> dict:
        # every value is immutable, so a shallow copy is asdict's answer without its deep copies
        # (a narrowed task list serializes every field of every form it returns)
        d = {name: getattr(self, name) for name in _FIELD_NAMES}
        d["options"] = [{"id": k, "name": v} for k, v in self.options]
        d["properties"] = dict(self.properties)
        return d


_FIELD_NAMES = tuple(f.name for f in dataclass_fields(FieldDef))


def _number(value: str | None) -> float | None:
    if value in (None, ""):
        return None
    return float(value)


def field_defs(form) -> list[FieldDef]:
    """The fields of a SpiffWorkflow Camunda ``Form`` (``task_spec.form``), as FieldDefs."""
    if form is None:
        return []
    result = []
    for f in form.fields:
        validation = {v.name: v.config for v in f.validation}
        props = {p.id: p.value for p in f.properties}
        result.append(
            FieldDef(
                id=f.id,
                label=f.label or f.id,
                type=f.type or "string",
                required="required" in validation,
                readonly="readonly" in validation,
                default=f.default_value or None,
                options=tuple((o.id, o.name) for o in getattr(f, "options", [])),
                min=_number(validation.get("min")),
                max=_number(validation.get("max")),
                minlength=int(validation["minlength"]) if validation.get("minlength") else None,
                maxlength=int(validation["maxlength"]) if validation.get("maxlength") else None,
                pattern=validation.get("pattern") or props.get("pattern") or None,
                widget=props.get("widget"),
                role=props.get("role"),
                placeholder=props.get("placeholder"),
                properties=tuple(sorted(props.items())),
            )
        )
    return result


class _AwareDateTime(fields.Field):
    """Accepts ISO dates or date-times (as browsers and API clients send them); stores ISO UTC."""

    default_error_messages = {"invalid": "不是有效的日期时间 / not a valid date or date-time"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, date):
            parsed = datetime(value.year, value.month, value.day)
        elif isinstance(value, str) and value.strip():
            try:
                parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                raise self.make_error("invalid") from None
        else:
            raise self.make_error("invalid")
        if parsed.tzinfo is None:
            from zoneinfo import ZoneInfo

            parsed = parsed.replace(tzinfo=ZoneInfo(self.metadata.get("tz", "Asia/Shanghai")))
        return parsed.astimezone(timezone.utc).isoformat()


def _number_text(value: float | int | None) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _length_message(low: int | None, high: int | None) -> str:
    """A sentence for the bounds that are set (never "between None and 200")."""
    if low is not None and high is not None:
        return f"请填写 {low} 到 {high} 个字 / enter between {low} and {high} characters"
    if high is not None:
        return f"最多填写 {high} 个字 / enter at most {high} characters"
    return f"至少填写 {low} 个字 / enter at least {low} characters"


def _range_message(low: float | None, high: float | None) -> str:
    lo, hi = _number_text(low), _number_text(high)
    if low is not None and high is not None:
        return f"请填写 {lo} 到 {hi} 之间的数 / enter a number from {lo} to {hi}"
    if high is not None:
        return f"不能大于 {hi} / enter a number no greater than {hi}"
    return f"不能小于 {lo} / enter a number no less than {lo}"


def _marshmallow_field(fd: FieldDef) -> fields.Field:
    validators = []
    if fd.type == "enum":
        validators.append(mv.OneOf([k for k, _ in fd.options], error="请从选项中选择一项 / choose one of the options"))
    if fd.minlength is not None or fd.maxlength is not None:
        validators.append(mv.Length(min=fd.minlength, max=fd.maxlength, error=_length_message(fd.minlength, fd.maxlength)))
    if fd.min is not None or fd.max is not None:
        validators.append(mv.Range(min=fd.min, max=fd.max, error=_range_message(fd.min, fd.max)))
    if fd.pattern:
        try:
            validators.append(mv.Regexp(compile_pattern(fd.pattern), error="格式不正确，请按提示填写 / the format is not right: follow the hint"))
        except ValueError as exc:  # deployed before RE2 checked patterns: the field goes unchecked, not stalled
            log.warning("field %s: pattern %r not usable (%s)", fd.id, fd.pattern, exc)
    kwargs = {"required": fd.required, "allow_none": not fd.required, "validate": validators}
    required_msg = {"required": "此项必填 / this field is required", "null": "此项必填 / this field is required"}
    if fd.type == "long":
        return fields.Integer(strict=False, error_messages={**required_msg, "invalid": "请输入整数 / enter a whole number"}, **kwargs)
    if fd.type == "boolean":
        return fields.Boolean(error_messages={**required_msg, "invalid": "请选择是或否 / yes or no"}, **kwargs)
    if fd.type == "date":
        return _AwareDateTime(error_messages=required_msg, **kwargs)
    return fields.String(error_messages={**required_msg, "invalid": "请输入文字 / enter text"}, **kwargs)


def schema_for(defs: list[FieldDef]) -> Schema:
    """The marshmallow schema the JSON API and the HTML post validate with."""
    return _schema_class(tuple(defs))()


@lru_cache(maxsize=512)
def _schema_class(defs: tuple[FieldDef, ...]) -> type[Schema]:
    attrs = {fd.id: _marshmallow_field(fd) for fd in defs if not fd.readonly}
    return Schema.from_dict(attrs, name="TaskForm")


def _blank_to_none(defs: list[FieldDef], data: dict) -> dict:
    """HTML forms send "" for an empty field: that is "not given", not an empty string."""
    cleaned = {}
    known = {fd.id: fd for fd in defs}
    for key, value in data.items():
        fd = known.get(key)
        if fd is None or fd.readonly:
            continue  # unknown or read-only keys never reach task data
        if isinstance(value, str) and value.strip() == "" and fd.type != "string":
            value = None
        if isinstance(value, str) and fd.type == "string" and value.strip() == "":
            value = None if fd.required else ""
        cleaned[key] = value
    return cleaned


def validate(session: Session, defs: list[FieldDef], data: dict) -> dict:
    """Typed values for task data, or Invalid with per-field messages. Unknown keys are dropped."""
    if not isinstance(data, dict):
        raise Invalid("表单数据应为对象 / form data must be an object")
    cleaned = _blank_to_none(defs, data)
    try:
        values = schema_for(defs).load(cleaned)
    except ValidationError as err:
        raise Invalid("表单有错误，请按各项下方的提示修改 / The form has errors: see the notes under the fields.", fields=_flatten(err.messages)) from None
    errors: dict[str, list[str]] = {}
    for fd in defs:
        value = values.get(fd.id)
        if value in (None, "") and _required_now(fd, values):
            errors[fd.id] = ["此项必填 / this field is required"]
        reason = _format_problem(fd, value) or _text_problem(value)
        if reason:
            errors[fd.id] = [reason]
        if fd.widget == "user" and value:
            if not _user_has_role(session, value, fd.role):
                role = fd.role or ""
                errors[fd.id] = [f"不是有效的{_role_name(session, role)}账号 / not an active user with role {role}"]
    if errors:
        raise Invalid("表单有错误，请按各项下方的提示修改 / The form has errors: see the notes under the fields.", fields=errors)
    for fd in defs:  # omitted optional fields take the diagram's default or are empty
        if fd.id not in values and not fd.readonly:
            # a step done again (reopened, a second callback, a reassignment) starts empty: an answer
            # from the previous round must not pass for this round's
            values[fd.id] = _typed_default(fd) if fd.default is not None else None
    return values


MAX_TEXT = 20_000  # the longest text a form field takes (a ticket's description holds as much)


def _text_problem(value) -> str | None:
    """Text no field can hold: a NUL character (PostgreSQL refuses it) or more than ``MAX_TEXT`` characters."""
    if not isinstance(value, str):
        return None
    if "\x00" in value:
        return "不能包含空字符（\\0） / must not contain NUL characters"
    if len(value) > MAX_TEXT:
        return f"过长：最多 {MAX_TEXT} 个字符 / too long: at most {MAX_TEXT} characters"
    return None


def _required_now(fd: FieldDef, values: dict) -> bool:
    """A field required only with some answer to another, from its property ``required_when``.

    ``outcome=return_to_pm`` (or ``outcome=a|b``, ``reached=true``): one rule that reads
    the same in the diagram, the form and the API, instead of a script checking it later.
    """
    rule = dict(fd.properties).get("required_when")
    if not rule or "=" not in rule:
        return False
    other, wanted = (part.strip() for part in rule.split("=", 1))
    given = values.get(other)
    given = str(given).lower() if isinstance(given, bool) else given
    return given is not None and str(given) in {w.strip() for w in wanted.split("|")}


# Contact data the desk's KPIs count on (004: record completeness): checked by the field's
# ``format`` property, or by the intake's well-known field ids when the diagram sets none.
FORMATS = {"phone": "phone", "email": "email", "occurred_at": "past"}
_PHONE = re.compile(r"^(\+?86)?(1[3-9]\d{9}|0\d{2,3}\d{7,8}(\d{1,6})?|[2-9]\d{6,7}|400\d{7}|800\d{7})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)


def _format_problem(fd: FieldDef, value) -> str | None:
    """Why a phone number, e-mail address or past moment is not one; None when it is (or is empty)."""
    kind = dict(fd.properties).get("format") or FORMATS.get(fd.id)
    if not kind or value in (None, ""):
        return None
    if kind == "phone":
        digits = re.sub(r"[\s()\-]", "", str(value))
        if not _PHONE.match(digits):
            return ("电话号码格式不正确：请填写 11 位手机号或带区号的固定电话，如 010-12345678 / "
                    "not a phone number: enter an 11-digit mobile number or a landline with its area code, e.g. 010-12345678")
    elif kind == "email":
        if not _EMAIL.match(str(value).strip()):
            return "电子邮箱格式不正确，如 name@example.cn / not an e-mail address, e.g. name@example.cn"
    elif kind == "past":
        from ..clock import now  # the desk's clock, which tests move

        moment = datetime.fromisoformat(str(value))
        if moment > now() + timedelta(minutes=5):
            return "时间不能晚于现在 / the time cannot be in the future"
        if moment < EARLIEST:
            return "时间不能早于 2000 年 / the time cannot be before 2000"
    return None


def _typed_default(fd: FieldDef):
    if fd.type == "long":
        return int(fd.default)
    if fd.type == "boolean":
        return str(fd.default).lower() == "true"
    return fd.default


def _flatten(messages) -> dict[str, list[str]]:
    result = {}
    for key, value in (messages or {}).items():
        if isinstance(value, dict):
            value = [m for msgs in value.values() for m in (msgs if isinstance(msgs, list) else [msgs])]
        result[str(key)] = [str(m) for m in (value if isinstance(value, list) else [value])]
    return result


def _user_has_role(session: Session, username: str, role: str | None) -> bool:
    user = session.scalars(select(User).where(User.username == username, User.active.is_(True))).first()
    return user is not None and (not role or user.has_role(role))


def _role_name(session: Session, code: str) -> str:
    role = session.get(Role, code) if code else None
    return role.name if role else "用户"
