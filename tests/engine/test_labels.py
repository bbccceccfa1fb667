"""The shipped label table gives English for everything the shipped diagrams name in Chinese.

English pages show what the table does not name as the diagram says it (Chinese), so a
new task, field, option, lane or flow label without an entry goes unnoticed on any page
until someone reads it in English. These tests name what is missing, and what the table
still names that the diagrams no longer have.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from lxml import etree

from engine.runtime.labels import LABELS_FILE, Labels, parse

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "camunda": "http://camunda.org/schema/1.0/bpmn"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")
FORM_PARTS = {"formField", "value", "property"}  # named through fields/options, not elements


def _diagrams():
    return [(path.name, etree.parse(str(path)).getroot()) for path in sorted(BPMN.glob("*.bpmn"))]


def _table() -> dict:
    return parse((BPMN / LABELS_FILE).read_text(encoding="utf-8"))


def _chinese(text: str | None) -> bool:
    return bool(text and CHINESE.search(text))


def missing_english(diagrams, table: dict) -> list[str]:
    """Every Chinese name in the diagrams that the table gives no English for."""
    words = Labels(table)
    missing = []
    for name, root in diagrams:
        for el in root.xpath("//*[@id][@name]"):
            if etree.QName(el).localname not in FORM_PARTS and _chinese(el.get("name")):
                if words.element(el.get("id"), None) is None:
                    missing.append(f"{name}: element {el.get('id')} “{el.get('name')}”")
        for task in root.xpath("//bpmn:userTask", namespaces=NS):
            step = task.get("id")
            doc = task.find("bpmn:documentation", NS)
            if doc is not None and _chinese(doc.text) and words.documentation(step, None) is None:
                missing.append(f"{name}: instructions of {step}")
            for fd in task.xpath(".//camunda:formField", namespaces=NS):
                fid = fd.get("id")
                if _chinese(fd.get("label")) and words.field(step, fid, None) is None:
                    missing.append(f"{name}: field {step}.{fid} “{fd.get('label')}”")
                for option in fd.xpath("camunda:value", namespaces=NS):
                    if _chinese(option.get("name")) and words.option(step, fid, option.get("id"), None) is None:
                        missing.append(f"{name}: option {step}.{fid}={option.get('id')} “{option.get('name')}”")
                for prop in fd.xpath(".//camunda:property[@id='placeholder']", namespaces=NS):
                    if _chinese(prop.get("value")) and words.placeholder(fid, None) is None:
                        missing.append(f"{name}: placeholder of {step}.{fid}")
    return missing


def stale_keys(diagrams, table: dict) -> list[str]:
    """Table entries for ids the diagrams no longer have (renamed or deleted elements, fields, options)."""
    ids, fields, options, steps = set(), set(), {}, set()
    for _name, root in diagrams:
        ids.update(el.get("id") for el in root.xpath("//*[@id]"))
        steps.update(t.get("id") for t in root.xpath("//bpmn:userTask", namespaces=NS))
        for fd in root.xpath("//camunda:formField", namespaces=NS):
            fields.add(fd.get("id"))
            options.setdefault(fd.get("id"), set()).update(v.get("id") for v in fd.xpath("camunda:value", namespaces=NS))
    stale = [f"elements.{k}" for k in table.get("elements", {}) if k not in ids]
    stale += [f"{section}.{k}" for section in ("fields", "placeholders") for k in table.get(section, {}) if k not in fields]
    stale += [f"options.{f}.{v}" for f, values in table.get("options", {}).items() for v in values if v not in options.get(f, ())]
    for step, entry in table.get("steps", {}).items():
        if step not in steps:
            stale.append(f"steps.{step}")
        stale += [f"steps.{step}.fields.{f}" for f in entry.get("fields", {}) if f not in fields]
        stale += [f"steps.{step}.options.{f}.{v}" for f, values in entry.get("options", {}).items()
                  for v in values if v not in options.get(f, ())]
    return stale


def test_every_chinese_name_in_the_shipped_diagrams_has_an_english_label():
    assert missing_english(_diagrams(), _table()) == []


def test_the_label_table_names_only_what_the_diagrams_have():
    assert stale_keys(_diagrams(), _table()) == []


def test_every_project_the_routing_table_names_has_english_and_no_other():
    """The record shows the routing rule's project; English pages take it from ``values.project``."""
    dmn = "https://www.omg.org/spec/DMN/20191111/MODEL/"
    root = etree.parse(str(BPMN.parent / "rules" / "routing.dmn")).getroot()
    projects = set()
    for table in root.iter(f"{{{dmn}}}decisionTable"):
        outputs = [o.get("name") for o in table.findall(f"{{{dmn}}}output")]
        column = outputs.index("project")
        for rule in table.findall(f"{{{dmn}}}rule"):
            text = rule.findall(f"{{{dmn}}}outputEntry")[column].findtext(f"{{{dmn}}}text").strip().strip('"')
            projects.add(text)
    assert projects and set(_table()["values"]["project"]) == projects


def test_a_new_task_field_option_or_flow_without_english_is_named():
    """The check itself: a diagram grown by one of each, with the table unchanged, fails by name."""
    xml = (
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d"><bpmn:process id="p" name="新流程">'
        '<bpmn:userTask id="new_task" name="新任务"><bpmn:documentation>说明</bpmn:documentation>'
        '<bpmn:extensionElements><camunda:formData>'
        '<camunda:formField id="new_field" label="新字段" type="enum"><camunda:value id="a" name="甲"/></camunda:formField>'
        '</camunda:formData></bpmn:extensionElements></bpmn:userTask>'
        '<bpmn:sequenceFlow id="new_flow" name="新连线" sourceRef="new_task" targetRef="new_task"/>'
        '<bpmn:endEvent id="plain" name="end"/></bpmn:process></bpmn:definitions>'
    )
    diagrams = [*_diagrams(), ("new.bpmn", etree.fromstring(xml.encode()))]
    missing = missing_english(diagrams, _table())
    for what in ("element p ", "element new_task", "element new_flow", "instructions of new_task",
                 "field new_task.new_field", "option new_task.new_field=a"):
        assert any(what in m for m in missing), (what, missing)
    assert not any("plain" in m for m in missing)  # names without Chinese need no entry
    table = json.loads(json.dumps(_table()))
    table["elements"]["gone_task"] = "Gone"
    table["options"]["type"]["gone"] = "Gone"
    assert {"elements.gone_task", "options.type.gone"} <= set(stale_keys(_diagrams(), table))
