"""The parser reads what SpiffWorkflow 3.2 leaves out: candidate groups/users, assignee, event properties."""

from lxml import etree

from engine.runtime.parser import make_parser

XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="u"/>
    <bpmn:userTask id="u" name="Do" camunda:candidateGroups="agent, lead" camunda:candidateUsers="eng1"
        camunda:assignee="${engineer}" camunda:formKey="k">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="x" label="X" type="string">
            <camunda:properties><camunda:property id="widget" value="textarea"/></camunda:properties>
          </camunda:formField>
        </camunda:formData>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="b" attachedToRef="u" cancelActivity="false">
      <bpmn:extensionElements>
        <camunda:properties>
          <camunda:property name="sla" value="response"/>
          <camunda:property name="level" value="warning"/>
        </camunda:properties>
      </bpmn:extensionElements>
      <bpmn:timerEventDefinition><bpmn:timeDate>due</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="b" targetRef="e2"/>
    <bpmn:endEvent id="e2"/>
    <bpmn:sequenceFlow id="f2" sourceRef="u" targetRef="e"/>
    <bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_extensions_are_read():
    parser = make_parser()
    parser.add_bpmn_xml(etree.fromstring(XML), filename="t.bpmn")
    spec = parser.get_spec("p")
    user_task = spec.task_specs["u"]
    assert user_task.extensions["candidateGroups"] == ["agent", "lead"]
    assert user_task.extensions["candidateUsers"] == ["eng1"]
    assert user_task.extensions["assignee"] == "${engineer}"
    assert user_task.extensions["properties"] == {}  # form field properties stay with the field
    assert user_task.form.fields[0].get_property("widget") == "textarea"
    assert spec.task_specs["b"].extensions["properties"] == {"sla": "response", "level": "warning"}
