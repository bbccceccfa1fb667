"""A task's form and instructions, built from its definition in the diagram.

``form_class`` makes a WTForms form class from the task's field definitions
(``engine.runtime.forms.FieldDef``); ``instructions`` renders the step's documentation
(the standard phrases, 标准话术) with the ticket's data; ``catalog`` and
``display`` say what a version's forms call fields and values, for the timeline.

The form renders the fields with their HTML5 attributes and carries the CSRF
token. It does not decide what is valid: ``engine.runtime.instances.complete`` validates
with ``engine.runtime.forms.validate``, the same code the JSON API uses, and the page
shows the ``Invalid.fields`` it raises beside each field. So every field keeps
the raw text the browser sent, and the choices of a select never reject a value.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectField, StringField, TextAreaField
from wtforms.widgets import DateInput, DateTimeLocalInput, NumberInput

from engine.desk import tickets
from engine.errors import ScriptError
from engine.models import ProcessVersion
from engine.runtime import definitions, forms, jail
from engine.runtime.forms import FieldDef
from engine.runtime.labels import Labels

from ..i18n import local_time

try:  # WTForms 3.3 declares options as SelectChoice and deprecates tuples
    from wtforms import SelectChoice as _SelectChoice
except ImportError:  # pragma: no cover - WTForms < 3.3
    _SelectChoice = None


def _choices(pairs) -> list:
    """(value, label) pairs as the installed WTForms wants its options."""
    if _SelectChoice is None:  # pragma: no cover
        return list(pairs)
    return [_SelectChoice(value, label) for value, label in pairs]


RADIO_MAX = 4  # an enum with this few options shows as buttons: one click, no menu to open
BOOLEAN_CHOICES = (("true", _l("Yes")), ("false", _l("No")))


PREFIX = "f_"  # attribute names; the HTML name is the field id, so "data" or "errors" are fine too


class TaskForm(FlaskForm):
    """Base of every generated form; ``defs`` keeps the definitions it came from."""

    defs: tuple[FieldDef, ...] = ()

    def field(self, field_id: str) -> Field:
        return self._fields[PREFIX + field_id]

    def task_fields(self) -> list[tuple[FieldDef, Field]]:
        """The definitions with their bound fields, in the diagram's order."""
        return [(fd, self.field(fd.id)) for fd in self.defs]


class FreeSelectField(SelectField):
    """A select that renders choices but leaves judging the value to the engine."""

    def pre_validate(self, form) -> None:
        pass


class FreeRadioField(RadioField):
    """Radio buttons that, like ``FreeSelectField``, leave judging the value to the engine."""

    def pre_validate(self, form) -> None:
        pass


def _attributes(fd: FieldDef) -> dict:
    """HTML5 attributes for the browser's own checks (a convenience, not the rule)."""
    attrs: dict = {}
    if fd.required:
        attrs["required"] = True
    if fd.readonly:
        attrs["readonly"] = True
        attrs["disabled"] = True
    for name in ("minlength", "maxlength", "pattern", "placeholder", "min", "max"):
        value = getattr(fd, name)
        if value is not None:
            attrs[name] = int(value) if isinstance(value, float) and value.is_integer() else value
    return attrs


def _field(fd: FieldDef, users: dict[str, list[tuple[str, str]]], radios: set[str]) -> Field:
    attrs = _attributes(fd)
    common = {"label": fd.label, "name": fd.id, "id": f"f-{fd.id}", "render_kw": attrs, "default": fd.default}
    if fd.widget == "user":
        choices = [("", _l("— choose —")), *users.get(fd.role or "", [])]
        return FreeSelectField(choices=_choices(choices), **common)
    if fd.type == "enum":
        if fd.widget == "radio" or fd.id in radios or (fd.widget != "select" and len(fd.options) <= RADIO_MAX):
            attrs.pop("placeholder", None)
            return FreeRadioField(choices=_choices(fd.options), **common)
        return FreeSelectField(choices=_choices([("", _l("— choose —")), *fd.options]), **common)
    if fd.type == "boolean":
        attrs.pop("placeholder", None)
        return FreeRadioField(choices=_choices(BOOLEAN_CHOICES), **common)
    if fd.type == "long":
        return StringField(widget=NumberInput(step=1), **common)
    if fd.type == "date":
        widget = DateTimeLocalInput() if fd.widget == "datetime" else DateInput()
        return StringField(widget=widget, **common)
    if fd.widget == "textarea":
        attrs.setdefault("rows", 4)
        return TextAreaField(**common)
    return StringField(**common)


def localize(defs: list[FieldDef], words: Labels, step: str | None) -> list[FieldDef]:
    """The fields as the page's language names them: labels, options and placeholders from the label table.

    Only what people read changes; ids and option values, which the engine checks, stay.
    """
    return [
        replace(
            fd,
            label=words.field(step, fd.id, fd.label),
            options=tuple((value, words.option(step, fd.id, value, name)) for value, name in fd.options),
            placeholder=words.placeholder(fd.id, fd.placeholder),
        )
        for fd in defs
    ]


def form_class(
    defs: list[FieldDef],
    *,
    users: dict[str, list[tuple[str, str]]] | None = None,
    radios: set[str] | frozenset[str] = frozenset(),
) -> type[TaskForm]:
    """A new form class with one field per definition, in the diagram's order.

    ``users`` maps a role code to ``(username, display name)`` choices for user
    pickers; ``radios`` names enum fields shown as radio buttons whatever their
    size (short enums are buttons anyway, unless the diagram asks for
    ``widget=select``).
    """
    attrs = {PREFIX + fd.id: _field(fd, users or {}, set(radios)) for fd in defs}
    attrs["defs"] = tuple(defs)
    return type("GeneratedTaskForm", (TaskForm,), attrs)


def initial_values(defs: list[FieldDef], data: dict) -> dict:
    """What a field shows before anything is typed: ``data``, else the diagram's default.

    Keyed for the form's ``data=`` argument. A task page passes only its read-only
    fields' process data (:func:`shown_data`): a step done again starts empty.
    """
    values = {}
    for fd in defs:
        value = data.get(fd.id, fd.default)
        if value is None:
            continue
        if fd.type == "boolean" and isinstance(value, bool):
            value = "true" if value else "false"
        elif fd.type == "date" and isinstance(value, str) and fd.widget == "datetime":
            value = _datetime_local(value)
        values[PREFIX + fd.id] = str(value)
    return values


def shown_data(defs: list[FieldDef], data: dict) -> dict:
    """The process data a task's form shows: its read-only fields only.

    A step done again (a reopened task, a second callback, a reassignment) starts
    empty; what people wrote before is shown read-only above the form instead.
    """
    return {fd.id: data[fd.id] for fd in defs if fd.readonly and fd.id in data}


def _datetime_local(value: str) -> str:
    """An ISO time from process data as the value of a datetime-local input, in desk time."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(get_timezone())
    return parsed.strftime("%Y-%m-%dT%H:%M")


def submitted(defs: list[FieldDef], formdata) -> dict:
    """The posted values of the form's own fields, as text for ``engine.runtime.forms.validate``."""
    return {fd.id: formdata.get(fd.id) for fd in defs if fd.id in formdata and not fd.readonly}


def instructions(text: str | None, context: dict) -> str:
    """The step's documentation with the ticket's data filled in; the raw text if that fails.

    The documentation is written by process owners: it renders in Jinja's sandbox,
    in a child process under the diagram code's hard limits (``engine.runtime.jail``),
    never in the app's environment. The result is plain text: the page escapes it
    like any other value.
    """
    if not text:
        return ""
    try:
        return jail.render(text, context)
    except ScriptError:
        return text


# --- what a version's forms call things ------------------------------------------


@dataclass
class Catalog:
    """What a version's forms call things: field labels per step, option names per field."""

    steps: dict[str, dict[str, FieldDef]]
    options: dict[str, dict[str, str]]
    documentation: dict[str, str]


_catalogs: dict[tuple[int, str], Catalog] = {}


def catalog(version: ProcessVersion) -> Catalog:
    key = (version.id, version.content_hash)
    if key not in _catalogs:
        spec, subprocess_specs = definitions.specs_of(version)
        steps: dict[str, dict[str, FieldDef]] = {}
        options: dict[str, dict[str, str]] = {}
        documentation: dict[str, str] = {}
        for process in (spec, *subprocess_specs.values()):
            for task_spec in process.task_specs.values():
                defs = forms.field_defs(getattr(task_spec, "form", None))
                if task_spec.bpmn_id and defs:
                    steps[task_spec.bpmn_id] = {fd.id: fd for fd in defs}
                    documentation[task_spec.bpmn_id] = getattr(task_spec, "documentation", None) or ""
                for fd in defs:
                    options.setdefault(fd.id, {}).update(dict(fd.options))
        _catalogs[key] = Catalog(steps, options, documentation)
    return _catalogs[key]


def display(value, fd: FieldDef | None, options: dict[str, str], people: dict[str, str]) -> str:
    """A submitted value as a person reads it: option names, yes/no, local times, display names.

    ``options`` are the names of the step the value was entered in when known (two
    steps may call the same value differently), else those of any step.
    """
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if value is None or value == "":
        return "—"
    text = str(value)
    if fd is not None and fd.type == "date":
        parsed = tickets.parse_time(text)
        return local_time(parsed) if parsed else text
    if fd is not None and fd.widget == "user":
        return people.get(text, text)
    return options.get(text, text)
