"""Languages: Simplified Chinese by default, English on request, remembered in the session.

Every string on a page goes through Flask-Babel: msgids in English, the zh_CN
catalog in ``translations/zh_Hans_CN`` (Babel expands zh_CN to zh_Hans_CN and
looks catalogs up by that name). Engine messages arrive bilingual ("中文 / English");
``engine_text`` shows the half that matches the page's language.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from flask import Blueprint, Flask, g, redirect, request, session, url_for
from flask_babel import format_datetime, get_locale, to_user_timezone
from flask_babel import gettext as _
from sqlalchemy import select

from engine.models import HumanTask, ProcessInstance, ProcessVersion
from engine.runtime import instances, labels

from .extensions import babel, db
from .redirects import safe_next

LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT = "zh_CN"
# Babel spells Simplified Chinese with its script, and looks its catalog up by that name
BABEL_LOCALES = {"zh_CN": "zh_Hans_CN", "en": "en"}

bp = Blueprint("i18n", __name__)


def language() -> str:
    """The page language the user chose ("zh_CN" or "en")."""
    lang = session.get("lang")
    return lang if lang in LANGUAGES else DEFAULT


def select_locale() -> str:
    return BABEL_LOCALES[language()]


def is_english() -> bool:
    return str(get_locale()) == "en"


def engine_text(message: str | None) -> str:
    """The page language's half of an engine message like "已完成 / already done"."""
    if not message:
        return ""
    chinese, sep, english = message.partition(" / ")
    if not sep:
        return message
    return english if is_english() else chinese


def local_time(value: datetime | str | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A UTC datetime (or an ISO string of one) shown in the desk's time zone (BABEL_DEFAULT_TIMEZONE).

    The desk's patterns are all digits (``MM-dd HH:mm``): those are written by
    ``strftime`` after the same conversion Babel makes, which is the same text at a
    tenth of the cost (a task list shows ~50 of them; docs/benchmarks.md, run 11).
    Any other pattern goes to Babel.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if not value:
        return "—"
    pattern = _strftime_pattern(fmt)
    if pattern is None:
        return format_datetime(value, fmt)
    return to_user_timezone(value).strftime(pattern)


_DIGIT_FIELDS = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
_strftime_patterns: dict[str, str | None] = {}


def _strftime_pattern(fmt: str) -> str | None:
    """The ``strftime`` pattern that writes what Babel's ``fmt`` writes, or None if it names words (months, eras)."""
    if fmt not in _strftime_patterns:
        parts = re.findall(r"[A-Za-z]+|[^A-Za-z']+|'", fmt)
        known = all(p in _DIGIT_FIELDS or not re.match(r"[A-Za-z']", p) for p in parts)
        _strftime_patterns[fmt] = "".join(_DIGIT_FIELDS.get(p, p.replace("%", "%%")) for p in parts) if known else None
    return _strftime_patterns[fmt]


def diagram_words(version: ProcessVersion | None) -> labels.Labels:
    """What the diagrams of ``version`` say in the page's language.

    Chinese pages show the diagrams' own words; English pages look them up in the
    version's label table (``engine.runtime.labels``), falling back to the diagram.
    """
    if version is None or not is_english():
        return labels.EMPTY
    return labels.of(version)


def step_name(task: HumanTask) -> str:
    """A task's name in the page's language (the inbox, the ticket's open steps)."""
    if not is_english():
        return task.name
    cache = g.setdefault("_version_of_instance", {})
    if task.instance_id not in cache:
        version_id = db.session.scalar(select(ProcessInstance.version_id).where(ProcessInstance.id == task.instance_id))
        cache[task.instance_id] = db.session.get(ProcessVersion, version_id) if version_id else None
    return diagram_words(cache[task.instance_id]).element(task.bpmn_id, task.name)


def desk_words() -> labels.Labels:
    """The label table of the desk process's latest version, once per request.

    Lists that show many tickets' steps (the ticket list, the inbox filter, the
    reports) name them by this one table rather than loading each ticket's version.
    """
    if not is_english():
        return labels.EMPTY
    if "_desk_words" not in g:
        version = db.session.scalar(
            select(ProcessVersion).where(ProcessVersion.key == instances.DESK_PROCESS)
            .order_by(ProcessVersion.version.desc()).limit(1)
        )
        g._desk_words = labels.of(version) if version is not None else labels.EMPTY
    return g._desk_words


def element_name(name: str, bpmn_id: str | None) -> str:
    """A diagram element's name in the page's language, by the desk's label table."""
    return desk_words().element(bpmn_id, name) if bpmn_id else name


def duration(value: timedelta | None) -> str:
    """An elapsed time as "2h 05m" or "1d 3h" (in the page's language)."""
    if value is None:
        return "—"
    minutes = max(0, int(value.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)dd %(h)dh", d=days, h=hours)
    return _("%(h)dh %(m)02dm", h=hours, m=minutes)


@bp.post("/lang")
def switch():
    """Remember the chosen language and go back to the page the switch was on."""
    lang = request.form.get("lang", DEFAULT)
    session["lang"] = lang if lang in LANGUAGES else DEFAULT
    return redirect(safe_next(request.form.get("next"), url_for("inbox.index")))


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", BABEL_LOCALES[DEFAULT])
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config.get("DESK_TIMEZONE", "Asia/Shanghai"))
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["engine_text"] = engine_text
    app.jinja_env.filters["local"] = local_time
    app.jinja_env.filters["step_name"] = step_name
    app.jinja_env.filters["element_name"] = element_name
    app.jinja_env.filters["duration"] = duration
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.context_processor(lambda: {"current_locale": language(), "is_english": is_english(),
                                   "list_sep": ", " if is_english() else "、"})
    app.register_blueprint(bp)
