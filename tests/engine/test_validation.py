"""Every message ``engine.authoring.validation`` can give, each from a small broken bundle."""

from __future__ import annotations

import re

import pytest
from conftest import bundle as shipped_bundle

from engine.authoring import validation
from engine.desk.users import ROLES

ROLE_NAMES = {name for role in ROLES for name in role}
NS = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)
USER = '<bpmn:userTask id="task" name="处理" camunda:candidateGroups="agent">{inner}</bpmn:userTask>'


def bpmn(body: str, *, lanes: str = "", pid: str = "p") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions {NS} id="d_{pid}" targetNamespace="t">'
            f'<bpmn:process id="{pid}" isExecutable="true">{lanes}{body}</bpmn:process></bpmn:definitions>')


def chain(*nodes: str, pid: str = "p", lanes: str = "") -> str:
    """start → each node (its id is read from the XML) → end, connected by flows."""
    ids = ["start"] + [n.split('id="', 1)[1].split('"', 1)[0] for n in nodes] + ["end"]
    flows = "".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>' for i, (a, b) in enumerate(zip(ids, ids[1:])))
    body = '<bpmn:startEvent id="start" name="开始"/>' + "".join(nodes) + '<bpmn:endEvent id="end" name="结束"/>' + flows
    return bpmn(body, pid=pid, lanes=lanes)


def form(*fields: str) -> str:
    return USER.format(inner=f"<bpmn:extensionElements><camunda:formData>{''.join(fields)}</camunda:formData></bpmn:extensionElements>")


def timer_process(kind: str, expression: str) -> str:
    boundary = (f'<bpmn:boundaryEvent id="timer" name="超时" cancelActivity="false" attachedToRef="task">'
                f'<bpmn:timerEventDefinition id="td"><bpmn:{kind} xsi:type="bpmn:tFormalExpression">{expression}</bpmn:{kind}>'
                f'</bpmn:timerEventDefinition></bpmn:boundaryEvent><bpmn:endEvent id="late" name="已超时"/>'
                f'<bpmn:sequenceFlow id="ft" sourceRef="timer" targetRef="late"/>')
    return chain(USER.format(inner="")).replace("</bpmn:process>", boundary + "</bpmn:process>")


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dd" name="d" namespace="x">
  <decision id="minutes" name="时限"><decisionTable id="dt" hitPolicy="UNIQUE">
    <input id="i1" label="优先级"><inputExpression id="ie1" typeRef="string"><text>priority</text></inputExpression></input>
    <output id="o1" name="response_minutes" typeRef="integer"/>
    <output id="o2" name="sla_calendar" typeRef="string"/>
    <rule id="r1"><inputEntry id="r1i"><text></text></inputEntry><outputEntry id="r1o1"><text>15</text></outputEntry>
      <outputEntry id="r1o2"><text>"24x7"</text></outputEntry></rule>
  </decisionTable></decision>
</definitions>"""


def check(files: dict[str, str], roles=ROLE_NAMES) -> list[dict]:
    return validation.validate(files, roles=roles)


def find(problems: list[dict], text: str, *, element=None, severity=None) -> dict:
    for p in problems:
        if text in p["message"] and (element is None or p["element"] == element) and (severity is None or p["severity"] == severity):
            return p
    raise AssertionError(f"no problem {text!r} (element {element}) in {problems}")


# --------------------------------------------------------------------------- the good cases


def test_the_shipped_processes_have_no_problems():
    files = {name: content.decode() for name, content in shipped_bundle().items()}
    assert check(files) == []


def test_a_small_correct_process_has_no_problems():
    assert check({"p.bpmn": chain(USER.format(inner=""))}) == []


def test_roles_come_from_the_database(db_session):
    files = {"p.bpmn": chain('<bpmn:userTask id="task" name="处理" camunda:candidateGroups="nobody"/>')}
    find(validation.validate_bundle(db_session, files), "候选组 nobody 不是已有角色", element="task")
    ok = {"p.bpmn": chain('<bpmn:userTask id="task" name="处理" camunda:candidateGroups="engineer"/>')}
    assert validation.validate_bundle(db_session, ok) == []


def test_timers_are_evaluated_with_sample_values_from_scripts_forms_and_decisions():
    script = '<bpmn:scriptTask id="s" name="计时" scriptFormat="python"><bpmn:script>accepted_at = now()</bpmn:script></bpmn:scriptTask>'
    rule = '<bpmn:businessRuleTask id="b" name="时限" camunda:decisionRef="minutes"/>'
    process = chain(script, rule, USER.format(inner="")).replace("</bpmn:process>", (
        '<bpmn:boundaryEvent id="timer" name="超时" cancelActivity="false" attachedToRef="task">'
        '<bpmn:timerEventDefinition id="td"><bpmn:timeDate xsi:type="bpmn:tFormalExpression">'
        "sla_due(response_minutes, sla_calendar, accepted_at)</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
        '<bpmn:endEvent id="late" name="已超时"/><bpmn:sequenceFlow id="ft" sourceRef="timer" targetRef="late"/></bpmn:process>'))
    assert check({"p.bpmn": process, "m.dmn": DMN}) == []
    samples = validation.sample_variables([], [])
    assert samples["number"]


def test_without_known_roles_only_missing_roles_are_reported():
    files = {"p.bpmn": chain('<bpmn:userTask id="task" name="处理" camunda:candidateGroups="nobody"/>')}
    assert check(files, roles=None) == []


# --------------------------------------------------------------------------- every message


def lane(name: str) -> str:
    return (f'<bpmn:laneSet id="ls"><bpmn:lane id="l1" name="{name}"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>'
            f'<bpmn:flowNodeRef>task</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>')


def gateway(default: str = "", conditions=("x == 1", "x == 2")) -> str:
    cond = ['<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{}</bpmn:conditionExpression>'.format(c) if c else ""
            for c in conditions]
    return bpmn(
        '<bpmn:startEvent id="start" name="开始"/>'
        f'<bpmn:exclusiveGateway id="gw" name="哪条路？"{f" default={chr(34)}{default}{chr(34)}" if default else ""}/>'
        '<bpmn:endEvent id="e1" name="甲"/><bpmn:endEvent id="e2" name="乙"/>'
        '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw"/>'
        f'<bpmn:sequenceFlow id="a" sourceRef="gw" targetRef="e1">{cond[0]}</bpmn:sequenceFlow>'
        f'<bpmn:sequenceFlow id="b" sourceRef="gw" targetRef="e2">{cond[1]}</bpmn:sequenceFlow>'
    )


CASES = [
    # (id, files, message text, element, severity)
    ("unknown file", {"p.bpmn": chain(USER.format(inner="")), "notes.txt": "hi"}, "未知文件类型", None, "warning"),
    ("malformed xml", {"p.bpmn": "<bpmn:definitions"}, "XML 格式错误：XML 格式不正确 / malformed XML", None, "error"),
    ("not bpmn", {"p.bpmn": chain(USER.format(inner="")), "x.dmn": '<?xml version="1.0"?><other xmlns="urn:x"/>'},
     "不是 BPMN 或 DMN 文件", None, "error"),
    ("no bpmn", {"m.dmn": DMN}, "文件包中没有 BPMN 流程", None, "error"),
    ("dangling flow", {"p.bpmn": chain(USER.format(inner="")).replace('targetRef="end"', 'targetRef="nowhere"')},
     "连线的终点 nowhere 不存在 / the flow's target nowhere does not exist", "f1", "error"),
    ("scenario json", {"p.bpmn": chain(USER.format(inner="")), "p.scenarios.json": "[{"}, "场景文件不是有效的 JSON", None, "error"),
    ("no start", {"p.bpmn": bpmn('<bpmn:userTask id="task" name="处理" camunda:candidateGroups="agent"/>'
                                '<bpmn:endEvent id="end" name="结束"/><bpmn:sequenceFlow id="f" sourceRef="task" targetRef="end"/>')},
     "流程缺少开始事件 / process has no start event", "p", "warning"),
    ("no end", {"p.bpmn": bpmn('<bpmn:startEvent id="start" name="开始"/><bpmn:userTask id="task" name="处理" camunda:candidateGroups="agent"/>'
                               '<bpmn:sequenceFlow id="f" sourceRef="start" targetRef="task"/>')},
     "流程缺少结束事件 / process has no end event", "p", "warning"),
    ("disconnected", {"p.bpmn": chain(USER.format(inner="")).replace("</bpmn:process>", '<bpmn:task id="lonely" name="孤单"/></bpmn:process>')},
     "孤立元素", "lonely", "warning"),
    ("implicit split", {"p.bpmn": chain(USER.format(inner="")).replace(
        "</bpmn:process>", '<bpmn:endEvent id="end2" name="另一端"/><bpmn:sequenceFlow id="fx" sourceRef="task" targetRef="end2"/></bpmn:process>')},
     "隐式分支", "task", "warning"),
    ("implicit join", {"p.bpmn": chain(USER.format(inner="")).replace(
        "</bpmn:process>", '<bpmn:sequenceFlow id="fx" sourceRef="start" targetRef="task"/></bpmn:process>')},
     "隐式合并", "task", "warning"),
    ("no label", {"p.bpmn": chain('<bpmn:userTask id="task" camunda:candidateGroups="agent"/>')},
     "缺少名称 / element has no label", "task", "warning"),
    ("no role", {"p.bpmn": chain('<bpmn:userTask id="task" name="处理"/>')},
     "用户任务“处理”（task）没有泳道、候选组或办理人，将交给组长和管理员处理", "task", "warning"),
    ("unknown group", {"p.bpmn": chain('<bpmn:userTask id="task" name="处理" camunda:candidateGroups="agent,wizard"/>')},
     "候选组 wizard 不是已有角色", "task", "error"),
    ("unknown lane", {"p.bpmn": chain('<bpmn:userTask id="task" name="处理"/>', lanes=lane("魔法部"))},
     "泳道 魔法部 不是已有角色", "task", "error"),
    ("duplicate field", {"p.bpmn": chain(form('<camunda:formField id="a" type="string"/>', '<camunda:formField id="a" type="string"/>'))},
     "表单字段 id 重复：a", "task", "error"),
    ("bad identifier", {"p.bpmn": chain(form('<camunda:formField id="1st-name" type="string"/>'))},
     "不是合法标识符", "task", "error"),
    ("keyword", {"p.bpmn": chain(form('<camunda:formField id="class" type="string"/>'))}, "不是合法标识符", "task", "error"),
    ("reserved typename", {"p.bpmn": chain(form('<camunda:formField id="typename" type="string"/>'))},
     "表单字段 id 是保留名称：typename", "task", "error"),
    ("reserved helper", {"p.bpmn": chain(form('<camunda:formField id="now" type="string"/>'))}, "是保留名称：now", "task", "error"),
    ("reserved underscore", {"p.bpmn": chain(form('<camunda:formField id="_secret" type="string"/>'))}, "是保留名称：_secret", "task", "error"),
    ("unknown type", {"p.bpmn": chain(form('<camunda:formField id="a" type="money"/>'))}, "表单字段类型未知：money", "task", "error"),
    ("enum without options", {"p.bpmn": chain(form('<camunda:formField id="a" type="enum"/>'))}, "枚举字段没有选项：a", "task", "error"),
    ("unknown constraint", {"p.bpmn": chain(form('<camunda:formField id="a" type="string"><camunda:validation>'
                                                 '<camunda:constraint name="shouting"/></camunda:validation></camunda:formField>'))},
     "未知约束 shouting", "task", "warning"),
    ("maxlength not whole", {"p.bpmn": chain(form('<camunda:formField id="a" type="string"><camunda:validation>'
                                                  '<camunda:constraint name="maxlength" config="ten"/></camunda:validation></camunda:formField>'))},
     "约束 maxlength 需要非负整数", "task", "error"),
    ("minlength negative", {"p.bpmn": chain(form('<camunda:formField id="a" type="string"><camunda:validation>'
                                                 '<camunda:constraint name="minlength" config="-1"/></camunda:validation></camunda:formField>'))},
     "约束 minlength 需要非负整数", "task", "error"),
    ("min not a number", {"p.bpmn": chain(form('<camunda:formField id="a" type="long"><camunda:validation>'
                                               '<camunda:constraint name="min" config="zero"/></camunda:validation></camunda:formField>'))},
     "约束 min 需要数值 / constraint min needs a number", "task", "error"),
    ("min above max", {"p.bpmn": chain(form('<camunda:formField id="a" type="long"><camunda:validation>'
                                            '<camunda:constraint name="min" config="9"/><camunda:constraint name="max" config="1"/>'
                                            '</camunda:validation></camunda:formField>'))},
     "约束 min 大于 max", "task", "error"),
    ("bad pattern", {"p.bpmn": chain(form('<camunda:formField id="a" type="string"><camunda:validation>'
                                          '<camunda:constraint name="pattern" config="[0-9"/></camunda:validation></camunda:formField>'))},
     "正则表达式无效", "task", "error"),
    ("bad pattern property", {"p.bpmn": chain(form('<camunda:formField id="a" type="string"><camunda:properties>'
                                                   '<camunda:property id="pattern" value="(a"/></camunda:properties></camunda:formField>'))},
     "正则表达式无效", "task", "error"),
    ("backreference pattern", {"p.bpmn": chain(form('<camunda:formField id="a" type="string"><camunda:validation>'
                                                    '<camunda:constraint name="pattern" config="(a)\\1"/></camunda:validation></camunda:formField>'))},
     "不支持反向引用", "task", "error"),
    ("lookahead pattern", {"p.bpmn": chain(form('<camunda:formField id="a" type="string"><camunda:properties>'
                                                '<camunda:property id="pattern" value="^(?=a)a$"/></camunda:properties></camunda:formField>'))},
     "no backreferences or lookarounds", "task", "error"),
    ("default not whole", {"p.bpmn": chain(form('<camunda:formField id="a" type="long" defaultValue="many"/>'))},
     "默认值 'many' 不是整数", "task", "error"),
    ("default not an option", {"p.bpmn": chain(form('<camunda:formField id="a" type="enum" defaultValue="c">'
                                                    '<camunda:value id="b" name="乙"/></camunda:formField>'))},
     "默认值 'c' 不在选项中", "task", "error"),
    ("picker role", {"p.bpmn": chain(form('<camunda:formField id="who" type="string"><camunda:properties>'
                                          '<camunda:property id="widget" value="user"/><camunda:property id="role" value="wizard"/>'
                                          '</camunda:properties></camunda:formField>'))},
     "用户选择框的角色 wizard 不存在", "task", "error"),
    ("script refused", {"p.bpmn": chain('<bpmn:scriptTask id="s" name="脚本" scriptFormat="python"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>')},
     "脚本无法编译 / script refused", "s", "error"),
    ("condition refused", {"p.bpmn": gateway(conditions=("x.__class__", "x == 2"), default="b")},
     "条件无法编译 / condition refused", "a", "error"),
    ("call without element", {"p.bpmn": chain('<bpmn:callActivity id="c" name="调用"/>')},
     "调用活动缺少被调用流程", "c", "error"),
    ("call unknown", {"p.bpmn": chain('<bpmn:callActivity id="c" name="调用" calledElement="ghost"/>')},
     "被调用的流程 ghost 不在文件包中", "c", "error"),
    ("default not outgoing", {"p.bpmn": gateway(default="f0")}, "默认流 f0 不是该网关的出口", "gw", "error"),
    ("flow without condition", {"p.bpmn": gateway(conditions=("x == 1", ""))},
     "网关出口缺少条件且不是默认流", "b", "error"),
    ("no default", {"p.bpmn": gateway()}, "网关没有默认流", "gw", "warning"),
    ("timer without expression", {"p.bpmn": timer_process("timeDate", "")}, "计时器没有表达式", "timer", "error"),
    ("timer fails", {"p.bpmn": timer_process("timeDate", "unknown_due")}, "计时器表达式计算失败", "timer", "error"),
    ("timer date is a duration", {"p.bpmn": timer_process("timeDate", "PT5M")}, "不是有效的 ISO 8601 timeDate", "timer", "error"),
    ("timer duration garbage", {"p.bpmn": timer_process("timeDuration", "'five minutes'")},
     "不是有效的 ISO 8601 timeDuration", "timer", "error"),
    ("timer cycle garbage", {"p.bpmn": timer_process("timeCycle", "'R3/soon'")}, "不是有效的 ISO 8601 timeCycle", "timer", "error"),
    ("timer not text", {"p.bpmn": timer_process("timeDate", "15")}, "不是有效的 ISO 8601 timeDate", "timer", "error"),
    ("rule without decision", {"p.bpmn": chain('<bpmn:businessRuleTask id="b" name="判定"/>')},
     "业务规则任务缺少决策引用", "b", "error"),
    ("unknown decision", {"p.bpmn": chain('<bpmn:businessRuleTask id="b" name="判定" camunda:decisionRef="ghost"/>'), "m.dmn": DMN},
     "决策 ghost 不在文件包中", "b", "error"),
]


@pytest.mark.parametrize(("files", "text", "element", "severity"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_problem_points_at_its_element(files, text, element, severity):
    problem = find(check(files), text, element=element, severity=severity)
    chinese, _, english = problem["message"].partition(" / ")  # Chinese first, then English
    assert any("\u4e00" <= c <= "\u9fff" for c in chinese) and english
    assert problem["file"] in files or problem["file"] is None


def test_good_timer_expressions_pass():
    for kind, expression in (("timeDate", "2026-11-23T10:00:00+08:00"), ("timeDuration", "PT15M"),
                             ("timeCycle", "R3/PT10M"), ("timeDuration", "${'PT' + str(5) + 'M'}")):
        assert check({"p.bpmn": timer_process(kind, expression)}) == [], (kind, expression)


def test_problems_of_one_element_are_not_repeated_by_the_parser():
    files = {"p.bpmn": chain('<bpmn:scriptTask id="s" name="脚本" scriptFormat="python"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>')}
    assert [p["element"] for p in check(files)] == ["s"]


def test_has_errors():
    assert not validation.has_errors([{"severity": "warning"}])
    assert validation.has_errors([{"severity": "warning"}, {"severity": "error"}])


def test_an_unsupported_hit_policy_is_refused_and_first_is_accepted():
    process = chain('<bpmn:businessRuleTask id="rule" name="时限" camunda:decisionRef="minutes"/>')
    priority = DMN.replace('hitPolicy="UNIQUE"', 'hitPolicy="RULE ORDER"')
    problem = find(check({"p.bpmn": process, "d.dmn": priority}), "RULE ORDER", element="dt")
    assert problem["severity"] == "error"
    first = DMN.replace('hitPolicy="UNIQUE"', 'hitPolicy="FIRST"')
    assert not [p for p in check({"p.bpmn": process, "d.dmn": first}) if "hit policy" in p["message"]]


def test_the_shipped_rule_tables_take_the_first_matching_row():
    """sla.dmn's unclassified row comes before the fallback; priority.dmn's catch-all comes last."""
    import re

    files = shipped_bundle()
    for name in ("priority.dmn", "sla.dmn", "routing.dmn"):
        assert re.search(rb'hitPolicy="FIRST"', files[name]), name
def _without(files: dict, name: str, element: str) -> dict:
    """The bundle as bpmn-js leaves it when an element is deleted: the element and its flows gone."""
    from lxml import etree

    root = etree.fromstring(files[name])
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}
    flows = root.xpath(f"//bpmn:sequenceFlow[@sourceRef='{element}' or @targetRef='{element}']", namespaces=ns)
    gone = {element, *(f.get("id") for f in flows)}
    for node in root.xpath("//*[@id]", namespaces=ns):
        if node.get("id") in gone:
            node.getparent().remove(node)
    for ref in root.xpath("//bpmn:incoming | //bpmn:outgoing | //bpmn:flowNodeRef", namespaces=ns):
        if (ref.text or "").strip() in gone:
            ref.getparent().remove(ref)
    for shape in root.xpath("//bpmndi:BPMNShape | //bpmndi:BPMNEdge", namespaces=ns):
        if shape.get("bpmnElement") in gone:
            shape.getparent().remove(shape)
    return {**files, name: etree.tostring(root)}


def test_a_deleted_close_task_leaves_the_ticket_stuck_and_validation_says_so():
    files = _without(shipped_bundle(), "service_desk.bpmn", "close")
    problems = validation.validate(files, roles=ROLE_NAMES)
    stuck = [p for p in problems if p["element"] == "merge_close"]
    assert stuck and stuck[0]["severity"] == "error"
    assert stuck[0]["message"].startswith("网关没有出口连线") and "/ the gateway has no outgoing flow" in stuck[0]["message"]
    assert any(p["element"] == "record_closed" and "无法到达这里" in p["message"] for p in problems)
    assert validation.has_errors(problems)
    for p in problems:  # every message has its Chinese half first
        assert re.match(r"[\u4e00-\u9fff]", p["message"]), p


def test_a_step_that_cannot_reach_an_end_is_an_error():
    loop = ('<bpmn:startEvent id="start" name="开始"/><bpmn:exclusiveGateway id="gw" name="再来？" default="back"/>'
            '<bpmn:userTask id="task" name="处理" camunda:candidateGroups="agent"/>'
            '<bpmn:endEvent id="end" name="结束"/>'
            '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="end"/>'
            '<bpmn:sequenceFlow id="f1" sourceRef="task" targetRef="gw"/>'
            '<bpmn:sequenceFlow id="back" sourceRef="gw" targetRef="task"/>')
    problems = validation.validate({"p.bpmn": bpmn(loop)}, roles=None)
    assert any(p["element"] == "task" and "无法到达结束事件" in p["message"] and p["severity"] == "error" for p in problems)


def test_a_deleted_step_that_the_modeler_reconnected_around_is_named_by_the_tests_that_use_it():
    from pathlib import Path

    files = shipped_bundle()
    shipped = Path(__file__).resolve().parents[2] / "bpmn"
    files["service_desk.scenarios.json"] = (shipped / "service_desk.scenarios.json").read_text()
    # bpmn-js joins the flows around a deleted task with one way in and one way out
    text = files["service_desk.bpmn"].decode()
    text = re.sub(r'<bpmn:userTask id="close".*?</bpmn:userTask>', "", text, flags=re.S)
    text = text.replace('targetRef="close"', 'targetRef="record_closed"')
    files["service_desk.bpmn"] = text.encode()
    problems = validation.validate(files, roles=ROLE_NAMES)
    assert any(p["element"] == "close" and p["file"] == "service_desk.scenarios.json"
               and p["message"].startswith("流程测试用到的任务 close 已不在流程图中") for p in problems), problems


@pytest.mark.parametrize(
    ("cell_id", "old", "new"),
    [
        ("r1o1", "<text>15</text>", "<text>().__class__.__mro__</text>"),
        ("r1i", '<inputEntry id="r1i"><text></text>', '<inputEntry id="r1i"><text>in __builtins__</text>'),
        ("r1i", '<inputEntry id="r1i"><text></text>', "<inputEntry id=\"r1i\"><text>open('/etc/passwd')</text>"),
        ("ie1", "<text>priority</text>", "<text>[x for x in ().__class__.__base__.__subclasses__()]</text>"),
    ],
)
def test_a_forbidden_construct_in_a_dmn_cell_is_refused_naming_the_table_and_the_cell(cell_id, old, new):
    process = chain('<bpmn:businessRuleTask id="rule" name="时限" camunda:decisionRef="minutes"/>')
    problem = find(check({"p.bpmn": process, "d.dmn": DMN.replace(old, new)}), "决策表“时限”", element=cell_id)
    assert problem["severity"] == "error" and f"cell {cell_id}" in problem["message"]


def test_ordinary_dmn_cells_pass_the_script_check():
    process = chain('<bpmn:businessRuleTask id="rule" name="时限" camunda:decisionRef="minutes"/>')
    for cell in ('"P1"', '> 5', 'in ["P1", "P2"]', '4 < ? < 6', '"P1","P2"', "-", "${x == 'a'}"):
        dmn = DMN.replace('<inputEntry id="r1i"><text></text>', f'<inputEntry id="r1i"><text>{cell}</text>')
        assert not [p for p in check({"p.bpmn": process, "d.dmn": dmn}) if "决策表" in p["message"]], cell


def test_a_forbidden_dmn_cell_refuses_the_deploy(db_session):
    from engine.authoring import versions
    from engine.errors import InvalidDefinition

    process = chain('<bpmn:businessRuleTask id="rule" name="时限" camunda:decisionRef="minutes"/>')
    dmn = DMN.replace("<text>15</text>", "<text>getattr(x, '__class__')</text>")
    with pytest.raises(InvalidDefinition) as refused:
        versions.deploy(db_session, {"p.bpmn": process, "d.dmn": dmn}, user="test")
    assert any(p["element"] == "r1o1" and "决策表" in p["message"] for p in refused.value.problems)
