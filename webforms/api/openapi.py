"""The OpenAPI document at /api/openapi.json, generated from the marshmallow schemas."""

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from engine.runtime import alerts

from . import bp, schemas

_OPERATIONS = [
    ("/api/tokens", "post", "Exchange username/password for a bearer token", "TokenRequest", "TokenResponse", 201, False),
    ("/api/tickets", "post", "Register a call (intake fields); completes the intake task", None, "TicketDetail", 201, True),
    ("/api/tickets", "get", "Search tickets (q: text or number prefix, % and _ literal; status, type, priority, organisation, "
     "holder, breached=1, from=/to= YYYY-MM-DD local days, page, per_page 20 by default, at most 200)", None, "TicketPage", 200, True),
    ("/api/tickets/{number}", "get", "One ticket with SLA clocks, open tasks and history", None, "TicketDetail", 200, True),
    ("/api/tasks", "get", "READY tasks, one page (scope=mine|group|all, ticket=, instance=, type=, priority=, stage=, "
     "organisation=, sort=due|-due|created|task|ticket|type|priority|organisation|assignee|sla_due|ticket_created, page=, per_page= 50 by "
     "default, at most 200). Items carry form_url; the form itself only with include=form or when narrowed by "
     "ticket= or instance=", None, "TaskPage", 200, True),
    ("/api/tasks/{id}", "get", "One task with its form", None, "Task", 200, True),
    ("/api/tasks/{id}/form", "get", "The form fields of one task (what a list item's form_url points at)", None, "TaskForm", 200, True),
    ("/api/tasks/{id}/claim", "post", "Claim a group task", None, "Task", 200, True),
    ("/api/tasks/{id}/unclaim", "post", "Give a claimed task back to its group", None, "Task", 200, True),
    ("/api/tasks/{id}/complete", "post", "Complete a task with form data", "CompleteRequest", "Task", 200, True),
    ("/api/tasks/{id}/reassign", "post", "A lead gives an open task to a named person, with a reason", "ReassignRequest", "Task", 200, True),
    ("/api/tickets/{number}/supplement", "post", "Fill in missing record fields (补录); the ticket is requalified", None, "TicketDetail", 200, True),
    ("/api/tickets/{number}/chase", "post", "Register a chase call (催单) on an open ticket", "ChaseRequest", "TicketDetail", 200, True),
    ("/api/tickets/open-for", "get", "A caller's open tickets (phone=, reporter_name=)", None, "TicketPage", 200, True),
    ("/api/definitions", "get", "Deployed versions", None, "Version", 200, True),
    ("/api/definitions", "post", "Deploy .bpmn/.dmn files (multipart, field 'files') as new versions (admin)", None, "Version", 201, True),
    ("/api/processes/{key}/instances", "post", "Start an instance of any deployed process (admin)", "StartRequest", "Instance", 201, True),
    ("/api/instances/{id}", "get", "An instance: status, version, READY tasks, data, next timer", None, "Instance", 200, True),
    ("/api/kpi", "get", "Every KPI, breakdowns and both scorecards of a period (period=2026-10|2026-Q4|2026-H2|2026, cycle=2026-11, or from=&to=; lead, admin)", None, "Report", 200, True),
    ("/api/scorecard", "get", "Both scorecards of a period (cycle=2026-11, period=…, or from=&to=; lead, admin)", None, "Report", 200, True),
    # issue 14: notes, attachments, customer archive, knowledge base, on-site records, announcements
    ("/api/tickets/{number}/notes", "post", "Add a note: internal (default) or a reply the customer sees", "NoteRequest", "Note", 201, True),
    ("/api/tickets/{number}/attachments", "post", "Attach a file (multipart field 'file'; type checked by content)", None, "AttachmentInfo", 201, True),
    ("/api/attachments/{id}", "get", "Download a file (images inline, others as attachment; nosniff, CSP)", None, "AttachmentInfo", 200, True),
    ("/api/customers", "get", "Search the customer archive (q: name, contact, phone, e-mail, model, serial)", None, "CustomerPage", 200, True),
    ("/api/customers", "post", "Add an organisation with contacts and devices (agent, lead, admin)", "CustomerRequest", "CustomerDetail", 201, True),
    ("/api/customers/{id}", "get", "One organisation with contacts, devices, sites and contracts", None, "CustomerDetail", 200, True),
    ("/api/tickets/{number}/customer", "post", "Link a ticket to archive records (organisation, contact, device)", "CustomerLink", "CustomerLink", 200, True),
    ("/api/kb", "get", "Search the knowledge base (q, status=draft|published|retired|all), best first", None, "KbHit", 200, True),
    ("/api/kb", "post", "Submit a draft article", "KbArticle", "KbArticle", 201, True),
    ("/api/kb/{id}", "get", "An article with its versions", None, "KbArticle", 200, True),
    ("/api/kb/{id}", "put", "Edit an article (a new version)", "KbArticle", "KbArticle", 200, True),
    ("/api/kb/{id}/publish", "post", "Publish a draft (lead, process owner)", None, "KbArticle", 200, True),
    ("/api/kb/{id}/retire", "post", "Retire an article (lead, process owner)", None, "KbArticle", 200, True),
    ("/api/kb/{id}/use", "post", "Record that an article helped on a ticket {ticket, bpmn_id}", None, "KbArticle", 201, True),
    ("/api/tickets/{number}/kb", "get", "Published, still valid articles matching the ticket", None, "KbHit", 200, True),
    ("/api/tickets/{number}/onsite", "post", "Write an on-site service record (field staff)", "Onsite", "Onsite", 201, True),
    ("/api/onsite/{id}", "put", "Correct an unsigned on-site record", "Onsite", "Onsite", 200, True),
    ("/api/onsite/{id}/confirm-backup", "post", "The customer confirms the data backup before risky work (signature)", None, "Onsite", 200, True),
    ("/api/onsite/{id}/sign", "post", "The customer signs (signer_name, signer_phone, signature PNG data URL)", None, "Onsite", 200, True),
    ("/api/announcements", "get", "Announcements valid now (all=1: every one)", None, "AnnouncementInfo", 200, True),
    ("/api/announcements", "post", "Publish an announcement with a validity period (lead, admin)", "AnnouncementInfo", "AnnouncementInfo", 201, True),
    # issue 15: channels (the alert source's own token, not a staff one)
    ("/api/alerts", "post", "Raise, repeat or resolve monitoring alarms: Alertmanager's webhook body as it is, or plain alerts; 409 for the same body again, 429 when throttled", "AlertRequest", "AlertResult", 202, "alertSource"),
    ("/api/portal-accounts", "post", "A portal sign-in for a contact of the customer archive, by e-mail (agent, lead, admin)", "PortalAccountRequest", "PortalAccount", 201, True),
    ("/api/tickets/{number}/pause", "post", "Pause (挂起) on a back-line step: the clocks a pause stops stand still; 409 when already paused", "PauseRequest", "TicketDetail", 200, True),
    ("/api/tickets/{number}/resume", "post", "Resume: due times move by the paused working time, timers re-armed; 409 when not paused", None, "TicketDetail", 200, True),
]


def build_spec() -> dict:
    spec = APISpec(
        title="服务台 Service Desk API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Tickets, tasks and process definitions of the service desk. Errors are JSON {error, message, fields?}."},
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for name in ("Note", "NoteRequest", "AttachmentInfo", "CustomerRequest", "CustomerDetail", "CustomerPage",
                 "CustomerLink", "KbHit", "KbArticle", "Onsite", "AnnouncementInfo",  # issue 14: before what nests them
                 "TokenRequest", "TokenResponse", "Error", "Task", "CompleteRequest", "TicketDetail", "TicketPage",
                 "Version", "StartRequest", "Instance", "Report", "ReassignRequest", "ChaseRequest", "TaskForm", "TaskPage",
                 "PauseRequest"):
        spec.components.schema(name, schema=getattr(schemas, name))
    _channel_components(spec)  # issue 15
    paths: dict[str, dict] = {}
    for path, method, summary, request, response, status, secured in _OPERATIONS:
        op: dict = {
            "summary": summary,
            "responses": {
                str(status): {"description": "OK", "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{response}"}}}},
                "default": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        }
        if request:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{request}"}}}}
        params = [{"name": p.strip("{}"), "in": "path", "required": True, "schema": {"type": "string"}}
                  for p in path.split("/") if p.startswith("{")]
        if params:
            op["parameters"] = params
        if secured:
            op["security"] = [{secured if isinstance(secured, str) else "bearer": []}]
        paths.setdefault(path, {})[method] = op
    for path, ops in paths.items():
        spec.path(path=path, operations=ops)
    return spec.to_dict()


def _channel_components(spec: APISpec) -> None:
    """Issue 15's schemas; POST /api/alerts takes one of three shapes, so its request is a oneOf."""
    spec.components.security_scheme("alertSource", {
        "type": "http", "scheme": "bearer",
        "description": "An alert source's token (`desk alert-source add NAME` prints it); staff tokens are refused"})
    for name in ("AlertmanagerAlert", "AlertmanagerWebhook", "GenericAlert", "AlertOutcome", "AlertResult",
                 "PortalAccountRequest", "PortalAccount"):
        spec.components.schema(name, schema=getattr(schemas, name))
    generic = {"$ref": "#/components/schemas/GenericAlert"}
    spec.components.schema("AlertRequest", component={"oneOf": [
        {"$ref": "#/components/schemas/AlertmanagerWebhook"}, generic,
        {"type": "array", "items": generic, "minItems": 1, "maxItems": alerts.MAX_ALERTS},
    ]})


@bp.get("/openapi.json")
def openapi_json():
    return build_spec()
