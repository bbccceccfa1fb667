"""A second language for what the diagrams say: a label table deployed with the bundle.

The .bpmn and .dmn files speak Chinese: task names, form labels, options, the
standard phrases (标准话术). ``labels.en.json`` beside them gives the English for each
by id. It is deployed with the bundle and stored in every version made from it
(``ProcessVersion.files``), so a ticket always shows the words of the version it runs
on, and Camunda Modeler users need not touch the table. What the table does not name
is shown as the diagram says it::

    {
      "elements": {"classify": "Classify", "Lane_agent": "Service desk"},
      "fields":   {"category": "Service category"},
      "placeholders": {"title": "The problem in one sentence"},
      "options":  {"category": {"desktop": "Desktop and terminals"}},
      "steps":    {"online_fix": {"fields": {"solution": "Solution / troubleshooting notes"},
                                  "options": {"outcome": {"resolved": "Resolved online"}},
                                  "documentation": "Try to fix it by phone or remote help first…"}},
      "values":   {"project": {"网络运维项目": "Network operations"}}
    }

``elements`` names tasks, events, gateways, lanes and processes by id; ``fields`` and
``options`` hold for a field id in any step, ``steps`` for one step only (two steps
may call the same ``outcome`` value differently); ``values`` names the other ticket
values people see (a routing rule's project, say).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..models import ProcessVersion

LABELS_FILE = "labels.en.json"
SECTIONS = ("elements", "fields", "placeholders", "options", "steps", "values")


def parse(text: str | bytes) -> dict:
    """The table as a dict; ValueError saying what is wrong with it."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"不是有效的 JSON / not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("标签表应为 JSON 对象 / the label table must be a JSON object")
    for section in SECTIONS:
        if not isinstance(data.get(section, {}), dict):
            raise ValueError(f"“{section}”应为对象 / “{section}” must be an object")
    return data


@dataclass(frozen=True)
class Labels:
    """Look-ups in one version's table; each returns ``default`` when the table is silent."""

    data: dict = field(default_factory=dict)

    def _get(self, *path: str):
        node = self.data
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node if isinstance(node, str) and node else None

    def element(self, element_id: str | None, default: str) -> str:
        return (element_id and self._get("elements", element_id)) or default

    def field(self, step: str | None, field_id: str, default: str) -> str:
        return (step and self._get("steps", step, "fields", field_id)) or self._get("fields", field_id) or default

    def option(self, step: str | None, field_id: str, value: str, default: str) -> str:
        return (
            (step and self._get("steps", step, "options", field_id, value))
            or self._get("options", field_id, value)
            or default
        )

    def placeholder(self, field_id: str, default: str | None) -> str | None:
        return self._get("placeholders", field_id) or default

    def documentation(self, step: str | None, default: str) -> str:
        return (step and self._get("steps", step, "documentation")) or default

    def value(self, kind: str, value: str, default: str) -> str:
        return self._get("values", kind, value) or default


EMPTY = Labels()
_cache: dict[tuple[int, str], Labels] = {}


def of(version: ProcessVersion) -> Labels:
    """The English table of a version (cached: a version never changes)."""
    key = (version.id, version.content_hash)
    if key not in _cache:
        text = (version.files or {}).get(LABELS_FILE)
        try:
            _cache[key] = Labels(parse(text)) if text else EMPTY
        except ValueError:
            _cache[key] = EMPTY  # refused at deploy; an old row must not break a page
    return _cache[key]
