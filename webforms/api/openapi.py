"""The OpenAPI document at /api/openapi.json, generated from the marshmallow schemas."""

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from . import bp, schemas

_OPERATIONS = [
    ("/api/tokens", "post", "Exchange username/password for a bearer token", "TokenRequest", "TokenResponse", 201, False),
    ("/api/tickets", "post", "Register a call (intake fields); completes the intake task", None, "TicketDetail", 201, True),
    ("/api/tickets", "get", "Search tickets (status, type, priority, q, organisation, page)", None, "TicketPage", 200, True),
    ("/api/tickets/{number}", "get", "One ticket with SLA clocks, open tasks and history", None, "TicketDetail", 200, True),
    ("/api/tasks", "get", "READY tasks (scope=mine|group|all, ticket=, instance=)", None, "Task", 200, True),
    ("/api/tasks/{id}", "get", "One task with its form", None, "Task", 200, True),
    ("/api/tasks/{id}/claim", "post", "Claim a group task", None, "Task", 200, True),
    ("/api/tasks/{id}/unclaim", "post", "Give a claimed task back to its group", None, "Task", 200, True),
    ("/api/tasks/{id}/complete", "post", "Complete a task with form data", "CompleteRequest", "Task", 200, True),
    ("/api/definitions", "get", "Deployed versions", None, "Version", 200, True),
    ("/api/definitions", "post", "Deploy .bpmn/.dmn files (multipart, field 'files') as new versions (admin)", None, "Version", 201, True),
    ("/api/processes/{key}/instances", "post", "Start an instance of any deployed process (admin)", "StartRequest", "Instance", 201, True),
    ("/api/instances/{id}", "get", "An instance: status, version, READY tasks, data, next timer", None, "Instance", 200, True),
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
    for name in ("TokenRequest", "TokenResponse", "Error", "Task", "CompleteRequest", "TicketDetail", "TicketPage",
                 "Version", "StartRequest", "Instance", "PauseRequest"):
        spec.components.schema(name, schema=getattr(schemas, name))
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
            op["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[method] = op
    for path, ops in paths.items():
        spec.path(path=path, operations=ops)
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi_json():
    return build_spec()
