"""Diagrams drawn in other modelers deploy: a user task nobody is named for goes to the leads and admins."""

from __future__ import annotations

import io

from engine.authoring import validation

# as Camunda Modeler saves a first diagram: no lanes, no candidate groups, no assignee
PLAIN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="approve_leave" name="Approve leave" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Activity_approve" name="Approve">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="approved" label="Approved" type="boolean" />
      </camunda:formData></bpmn:extensionElements>
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="EndEvent_1"><bpmn:incoming>Flow_2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Activity_approve" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Activity_approve" targetRef="EndEvent_1" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="approve_leave">
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1"><dc:Bounds x="180" y="100" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Activity_approve_di" bpmnElement="Activity_approve"><dc:Bounds x="270" y="78" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="EndEvent_1_di" bpmnElement="EndEvent_1"><dc:Bounds x="430" y="100" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1"><di:waypoint x="216" y="118" /><di:waypoint x="270" y="118" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_2_di" bpmnElement="Flow_2"><di:waypoint x="370" y="118" /><di:waypoint x="430" y="118" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def test_a_task_for_nobody_deploys_with_a_warning_naming_it(db_session):
    problems = validation.validate_bundle(db_session, {"leave.bpmn": PLAIN})
    assert not validation.has_errors(problems)
    warning = next(p for p in problems if p["element"] == "Activity_approve")
    assert warning["severity"] == "warning" and "“Approve”（Activity_approve）" in warning["message"]
    assert "offered to leads and admins" in warning["message"]


def test_leads_and_admins_are_offered_it(api):
    res = api.client.post("/api/definitions", data={"files": [(io.BytesIO(PLAIN.encode()), "leave.bpmn")], "note": "x"},
                          headers={"Authorization": f"Bearer {api.token('admin1')}"}, content_type="multipart/form-data")
    assert res.status_code == 201, res.get_json()
    res = api.post("admin1", "/api/processes/approve_leave/instances", json={"data": {}})
    assert res.status_code == 201, res.get_json()
    instance = res.get_json()["id"]
    task = api.get("admin1", f"/api/instances/{instance}").get_json()["tasks"][0]
    assert task["roles"] == ["lead", "admin"]
    assert [t["id"] for t in api.get("lead1", "/api/tasks?scope=group").get_json()["items"] if t["instance_id"] == instance]
    assert not [t for t in api.get("agent1", "/api/tasks?scope=group").get_json()["items"] if t["instance_id"] == instance]
    done = api.post("lead1", f"/api/tasks/{task['id']}/complete", json={"data": {"approved": True}})
    assert done.status_code == 200, done.get_json()
