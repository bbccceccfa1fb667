"""The OpenAPI document at /api/openapi.json, generated from the marshmallow schemas."""

import functools

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app

from engine.runtime import alerts
from engine.runtime import tasks as task_rows

from . import bp, schemas

# path, method, summary, request body schema (or "multipart:<field>"), answer schema, status, security,
# and the error statuses it gives besides the ones every call may give (see ``_errors``)
_OPERATIONS = [
    ("/api/tokens", "post", "Exchange username/password for a bearer token; 401 when wrong, 429 with Retry-After while this client must wait after failures",
     "TokenRequest", "TokenResponse", 201, False, (401, 429)),
    ("/api/tokens", "get", "The caller's tokens that still work, the newest first: created, expires, last used (to ten "
     "minutes), current (the one this call used)", None, "TokenList", 200, True, ()),
    ("/api/tokens/{token_id}", "delete", "Revoke one of the caller's tokens (the current one too); another user's is not found",
     None, "empty", 204, True, ()),
    ("/api/me", "get", "Who the token belongs to", None, "Me", 200, True, ()),
    ("/api/tickets", "post", "Register a call (intake fields); completes the intake task", "TicketRequest", "TicketDetail", 201, True, (404, 409)),
    ("/api/tickets", "get", "Search tickets (q: text or number prefix, % and _ literal; status, type, priority, organisation, "
     "holder, breached=1, from=/to= YYYY-MM-DD local days, page, per_page 20 by default, at most 200)", None, "TicketPage", 200, True, ()),
    ("/api/tickets/{number}", "get", "One ticket with SLA clocks, open tasks and history", None, "TicketDetail", 200, True, ()),
    ("/api/tasks", "get", "READY tasks, one page (scope=mine|group|all, ticket=, instance=, type=, priority=, stage=, "
     "organisation=, sort=due|-due|created|task|ticket|type|priority|organisation|assignee|sla_due|ticket_created, page=, per_page= 50 by "
     "default, at most 200). Items carry form_url; the form itself only with include=form or when narrowed by "
     "ticket= or instance=", None, "TaskPage", 200, True, ()),
    ("/api/tasks/{task_id}", "get", "One task with its form", None, "Task", 200, True, ()),
    ("/api/tasks/{task_id}/form", "get", "The form fields of one task (what a list item's form_url points at)", None, "TaskForm", 200, True, ()),
    ("/api/tasks/{task_id}/claim", "post", "Claim a group task (one already yours: unchanged; the process's assignment to someone else: 403)", None, "Task", 200, True, (409,)),
    ("/api/tasks/{task_id}/unclaim", "post", "Give a claimed task back to its group (one the process assigned: 403; a lead reassigns it)", None, "Task", 200, True, (409,)),
    ("/api/tasks/{task_id}/complete", "post", "Complete a task with form data", "CompleteRequest", "Task", 200, True, (409,)),
    ("/api/tasks/{task_id}/reassign", "post", "A lead gives an open task to a named person, with a reason", "ReassignRequest", "Task", 200, True, (409,)),
    ("/api/tickets/{number}/supplement", "post", "Fill in missing record fields (补录); the ticket is requalified", "SupplementRequest", "TicketDetail", 200, True, (409,)),
    ("/api/tickets/{number}/chase", "post", "Register a chase call (催单) on an open ticket", "ChaseRequest", "TicketDetail", 200, True, (409,)),
    ("/api/tickets/open-for", "get", "A caller's open tickets (phone=, reporter_name=)", None, "TicketList", 200, True, ()),
    ("/api/definitions", "get", "Deployed versions (key= one process)", None, "VersionList", 200, True, ()),
    ("/api/definitions", "post", "Deploy .bpmn/.dmn files (multipart, field 'files') as new versions (admin); 200 when nothing changed",
     "multipart:files", "DeployResult", 201, True, (200,)),
    ("/api/processes/{key}/instances", "post", "Start an instance of any deployed process (admin)", "StartRequest", "StartedInstance", 201, True, (409,)),
    ("/api/instances/{instance_id}", "get", "An instance: status, version, READY tasks, data, next timer", None, "InstanceDetail", 200, True, ()),
    ("/api/kpi", "get", "Every KPI, breakdowns and both scorecards of a period (period=2026-10|2026-Q4|2026-H2|2026, cycle=2026-11, or from=&to=; lead, admin)", None, "Report", 200, True, ()),
    ("/api/scorecard", "get", "Both scorecards of a period (cycle=2026-11, period=…, or from=&to=; lead, admin)", None, "Report", 200, True, ()),
    # issue 14: notes, attachments, customer archive, knowledge base, on-site records, announcements
    ("/api/tickets/{number}/notes", "post", "Add a note: internal (default) or a reply the customer sees", "NoteRequest", "Note", 201, True, ()),
    ("/api/tickets/{number}/notes", "get", "A ticket's notes", None, "NoteList", 200, True, ()),
    ("/api/tickets/{number}/attachments", "post", "Attach a file (multipart field 'file'; type checked by content)", "multipart:file",
     "AttachmentInfo", 201, True, (413,)),
    ("/api/tickets/{number}/attachments", "get", "A ticket's files", None, "AttachmentList", 200, True, ()),
    ("/api/attachments/{attachment_id}", "get", "Download a file (images inline, others as attachment; nosniff, CSP)", None, "binary", 200, True, ()),
    ("/api/customers", "get", "Search the customer archive (q: name, contact, phone, e-mail, model, serial; page, per_page)", None, "CustomerPage", 200, True, ()),
    ("/api/customers", "post", "Add an organisation with contacts and devices (agent, lead, admin)", "CustomerRequest", "CustomerDetail", 201, True, (409,)),
    ("/api/customers/{organisation_id}", "get", "One organisation with contacts, devices, sites and contracts", None, "CustomerDetail", 200, True, ()),
    ("/api/customers/{organisation_id}", "put", "Rename or re-address an organisation (agent, lead, admin)", "CustomerUpdate", "CustomerDetail", 200, True, (409,)),
    ("/api/tickets/{number}/customer", "post", "Link a ticket to archive records (organisation, contact, device)", "CustomerLink", "CustomerLink", 200, True, ()),
    ("/api/kb", "get", "Search the knowledge base (q, status=draft|published|retired|all; page, per_page), best first", None, "KbScoredPage", 200, True, ()),
    ("/api/kb", "post", "Submit a draft article", "KbRequest", "KbArticle", 201, True, ()),
    ("/api/kb/{article_id}", "get", "An article with its versions", None, "KbArticleDetail", 200, True, ()),
    ("/api/kb/{article_id}", "put", "Edit an article (a new version)", "KbRequest", "KbArticle", 200, True, ()),
    ("/api/kb/{article_id}/publish", "post", "Publish a draft (lead, process owner); optional {valid_until}", "?KbPublishRequest", "KbArticle", 200, True, (409,)),
    ("/api/kb/{article_id}/retire", "post", "Retire an article (lead, process owner)", None, "KbArticle", 200, True, (409,)),
    ("/api/kb/{article_id}/use", "post", "Record that an article helped on a ticket", "KbUseRequest", "KbUse", 201, True, ()),
    ("/api/tickets/{number}/kb", "get", "Published, still valid articles matching the ticket", None, "KbScoredList", 200, True, ()),
    ("/api/tickets/{number}/onsite", "post", "Write an on-site service record (field staff)", "OnsiteRequest", "Onsite", 201, True, ()),
    ("/api/onsite/{record_id}", "get", "One on-site service record", None, "Onsite", 200, True, ()),
    ("/api/onsite/{record_id}", "put", "Correct an unsigned on-site record", "OnsiteRequest", "Onsite", 200, True, (409,)),
    ("/api/onsite/{record_id}/confirm-backup", "post", "The customer confirms the data backup before risky work (signature)",
     "BackupRequest", "Onsite", 200, True, (409,)),
    ("/api/onsite/{record_id}/sign", "post", "The customer signs (signer_name, signer_phone, signature PNG data URL)", "SignRequest", "Onsite", 200, True, (409,)),
    ("/api/announcements", "get", "Announcements valid now (all=1: every one)", None, "AnnouncementList", 200, True, ()),
    ("/api/announcements", "post", "Publish an announcement with a validity period (lead, admin)", "AnnouncementRequest", "AnnouncementInfo", 201, True, ()),
    ("/api/announcements/{announcement_id}/withdraw", "post", "Withdraw an announcement (lead, admin)", None, "AnnouncementInfo", 200, True, (409,)),
    # issue 15: channels (the alert source's own token, not a staff one)
    ("/api/alerts", "post", "Raise, repeat or resolve monitoring alarms: Alertmanager's webhook body as it is, or plain alerts; 409 for the same body again, 429 when throttled",
     "AlertRequest", "AlertResult", 202, "alertSource", (409, 413, 429)),
    ("/api/portal-accounts", "post", "A portal sign-in for a contact of the customer archive, by e-mail (agent, lead, admin)", "PortalAccountRequest", "PortalAccount", 201, True, (404, 409)),
    ("/api/tickets/{number}/pause", "post", "Pause (挂起) on a back-line step: the clocks a pause stops stand still; 409 when already paused", "PauseRequest", "TicketDetail", 200, True, (409,)),
    ("/api/tickets/{number}/resume", "post", "Resume: due times move by the paused working time, timers re-armed; 409 when not paused", None, "TicketDetail", 200, True, (409,)),
    ("/api/openapi.json", "get", "This document", None, "object", 200, False, ()),
]

# query arguments: name → JSON schema (strings unless said otherwise); the paging ones as the request check takes them
_PAGE = {"type": "integer", "minimum": 1, "maximum": 1_000_000}
_QUERY = {
    ("/api/tickets", "get"): {"q": {}, "status": {}, "type": {}, "priority": {}, "organisation": {}, "holder": {},
                              "breached": {"description": "1: only breached"}, "from": {"format": "date"}, "to": {"format": "date"},
                              "page": _PAGE, "per_page": {"type": "integer", "minimum": 1, "maximum": 200}},
    ("/api/tasks", "get"): {"scope": {"enum": ["mine", "group", "all"]}, "ticket": {}, "instance": {"type": "integer", "minimum": 1},
                            "type": {}, "priority": {}, "stage": {}, "organisation": {}, "include": {"description": "form: items carry their forms"},
                            "sort": {"enum": [f"{way}{key}" for key in task_rows.SORTS for way in ("", "-")]},
                            "page": _PAGE, "per_page": {"type": "integer", "minimum": 1, "maximum": 200}},
    ("/api/tickets/open-for", "get"): {"phone": {}, "reporter_name": {}},
    ("/api/definitions", "get"): {"key": {}},
    ("/api/kpi", "get"): {"period": {}, "cycle": {}, "from": {"format": "date"}, "to": {"format": "date"}},
    ("/api/scorecard", "get"): {"period": {}, "cycle": {}, "from": {"format": "date"}, "to": {"format": "date"}},
    ("/api/customers", "get"): {"q": {}, "page": _PAGE, "per_page": {"type": "integer", "minimum": 1, "maximum": 100}},
    ("/api/kb", "get"): {"q": {}, "status": {"enum": ["draft", "published", "retired", "all"]}, "page": _PAGE,
                         "per_page": {"type": "integer", "minimum": 1, "maximum": 100}},
    ("/api/announcements", "get"): {"all": {"description": "any value: every announcement"}},
}
_ERROR_TEXT = {400: "Bad request", 401: "No valid token", 403: "Not allowed for this user", 404: "No such thing",
               409: "The state moved on (already done, already there)", 413: "The body is too large",
               422: "Bad input: {error, message, fields?} names the fields", 429: "Too many attempts; try again later"}


def _errors(path: str, secured, extra: tuple) -> list[int]:
    """Every call may be refused as bad input (422: NUL characters, paging, bodies); with a token, 401 (and 403
    for a staff token); with a path parameter, 404."""
    codes = {422, *extra}
    if secured:
        codes.add(401)
    if secured is True:  # a staff token: roles decide (an alert source's token has no roles)
        codes.add(403)
    if "{" in path:
        codes.add(404)
    return sorted(codes)


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(name: str) -> dict:
    if name == "empty":
        return {"description": "Done (no body)"}
    if name == "binary":
        return {"description": "The file", "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}
    schema = {"type": "object"} if name == "object" else _ref(name)
    return {"description": "OK", "content": {"application/json": {"schema": schema}}}


def _request(spec_name: str) -> dict:
    if spec_name.startswith("multipart:"):
        field = spec_name.split(":", 1)[1]
        item = {"type": "string", "format": "binary"}
        schema = {"type": "object", "required": [field],
                  "properties": {field: {"type": "array", "items": item} if field == "files" else item,
                                 "note": {"type": "string"}}}
        return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    optional = spec_name.startswith("?")
    return {"required": not optional, "content": {"application/json": {"schema": _ref(spec_name.lstrip("?"))}}}


def _parameters(path: str, method: str) -> list[dict]:
    params = []
    for part in path.split("/"):
        if part.startswith("{"):
            name = part.strip("{}")
            schema = {"type": "string", "minLength": 1} if name in ("number", "key") else \
                {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
            params.append({"name": name, "in": "path", "required": True, "schema": schema})
    for name, schema in _QUERY.get((path, method), {}).items():
        params.append({"name": name, "in": "query", "required": False, "schema": {"type": "string", **schema}})
    return params


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
                 "PauseEntry", "TokenRequest", "TokenResponse", "TokenInfo", "TokenList", "Error", "Task", "CompleteRequest", "TicketDetail",
                 "TicketPage", "Version", "StartRequest", "Instance", "Report", "ReassignRequest", "ChaseRequest", "TaskForm",
                 "TaskPage", "PauseRequest",
                 # issue 11: every endpoint's request and answer
                 "TicketRequest", "SupplementRequest", "CustomerUpdate", "KbRequest", "KbPublishRequest", "KbUseRequest",
                 "KbUse", "KbVersion", "KbScored", "KbScoredPage", "KbScoredList", "KbArticleDetail", "OnsiteRequest",
                 "SignRequest", "BackupRequest", "AnnouncementRequest", "Me", "StartedInstance", "DeployResult",
                 "VersionList", "TicketList", "NoteList", "AttachmentList", "AnnouncementList", "InstanceDetail"):
        spec.components.schema(name, schema=getattr(schemas, name))
    _channel_components(spec)  # issue 15
    paths: dict[str, dict] = {}
    for path, method, summary, request, response, status, secured, extra in _OPERATIONS:
        responses = {str(code): _answer(response) for code in (status, *(c for c in extra if c < 400))}
        for code in _errors(path, secured, tuple(c for c in extra if c >= 400)):
            responses[str(code)] = {"description": _ERROR_TEXT[code], "content": {"application/json": {"schema": _ref("Error")}}}
        op: dict = {"summary": summary, "responses": responses}
        if request:
            op["requestBody"] = _request(request)
        params = _parameters(path, method)
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


@functools.cache
def _document() -> str:
    """The document as the API answers it, built once per process.

    It is the code's, the same for every call, and building it takes ~37 ms of CPU:
    built per call, anyone (it needs no token) could keep a worker busy with it.
    """
    return current_app.json.dumps(build_spec())


@bp.get("/openapi.json")
def openapi_json():
    return current_app.response_class(f"{_document()}\n", mimetype=current_app.json.mimetype)
