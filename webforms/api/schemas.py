"""Marshmallow schemas of the API's requests and answers; the OpenAPI document is built from them.

Task form data is validated by the schema the engine builds from each task's
``camunda:formData`` (engine.runtime.forms), not here.
"""

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate

from engine.errors import Invalid


def load(schema: Schema, data: dict) -> dict:
    try:
        return schema.load(data)
    except ValidationError as err:
        flat = {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in err.messages.items()}
        raise Invalid("请求有错误 / the request has errors", fields=flat) from None


class TokenRequest(Schema):
    username = fields.String(required=True)
    password = fields.String(required=True)
    # days the token works: 1 up to the desk's setting (DESK_API_TOKEN_DAYS, 30 unless set), which is the default
    expires_in_days = fields.Integer(strict=True, validate=validate.Range(min=1), load_default=None)


class TokenResponse(Schema):
    token = fields.String()
    username = fields.String()
    roles = fields.List(fields.String())
    expires_at = fields.DateTime()


class TokenInfo(Schema):
    """One of the caller's tokens (never the token itself: only its hash is kept)."""

    id = fields.Integer()
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)  # to ten minutes
    current = fields.Boolean()  # the token this call was made with


class TokenList(Schema):
    items = fields.List(fields.Nested(TokenInfo))


class Error(Schema):
    """Every refusal: ``error`` (a stable code) and ``message`` (Chinese / English); the rest when they apply."""

    error = fields.String(required=True)
    message = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields", metadata={"description": "422: field → messages"})
    by = fields.String(metadata={"description": "409: who did it first"})
    at = fields.String(metadata={"format": "date-time", "description": "409: when"})
    problems = fields.List(fields.Dict(), metadata={"description": "invalid_definition: file, element, message"})
    element = fields.String(metadata={"description": "script_error: the diagram element"})


class Option(Schema):
    id = fields.String()
    name = fields.String()


class FormField(Schema):
    id = fields.String()
    label = fields.String()
    type = fields.String()
    required = fields.Boolean()
    readonly = fields.Boolean()
    default = fields.String(allow_none=True)
    options = fields.List(fields.Nested(Option))
    min = fields.Float(allow_none=True)
    max = fields.Float(allow_none=True)
    minlength = fields.Integer(allow_none=True)
    maxlength = fields.Integer(allow_none=True)
    pattern = fields.String(allow_none=True)
    widget = fields.String(allow_none=True)
    role = fields.String(allow_none=True)
    placeholder = fields.String(allow_none=True)
    properties = fields.Dict(metadata={"description": "the field's camunda:properties"})


class Task(Schema):
    id = fields.Integer()
    ticket = fields.String(allow_none=True)
    instance_id = fields.Integer()
    bpmn_id = fields.String()
    name = fields.String()
    process_id = fields.String()
    roles = fields.List(fields.String())
    assignee = fields.String(allow_none=True)
    claimed = fields.Boolean()
    state = fields.String()
    created_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)
    form = fields.List(fields.Nested(FormField))
    form_url = fields.String(dump_only=True)


class TaskForm(Schema):
    id = fields.Integer()
    form = fields.List(fields.Nested(FormField))


class TaskPage(Schema):
    """A page of tasks; ``form`` in items only with include=form (or ticket=/instance=), else ``form_url``."""

    items = fields.List(fields.Nested(Task))
    total = fields.Integer()
    total_exact = fields.Boolean()  # false: at least ``total`` (counting stops at 1,000)
    page = fields.Integer()
    per_page = fields.Integer()
    pages = fields.Integer()


class CompleteRequest(Schema):
    data = fields.Dict(required=True)


class ReassignRequest(Schema):
    username = fields.String(required=True)
    reason = fields.String(required=True)


class ChaseRequest(Schema):
    note = fields.String(load_default="")


class Clock(Schema):
    name = fields.String()
    minutes = fields.Integer(allow_none=True)
    calendar = fields.String()
    started_at = fields.DateTime(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    warn_at = fields.DateTime(allow_none=True)
    stopped_at = fields.DateTime(allow_none=True)
    warned_at = fields.DateTime(allow_none=True)
    breached = fields.Boolean()
    breached_at = fields.DateTime(allow_none=True)
    paused_seconds = fields.Integer()  # issue 10: working seconds spent paused (KPIs with/without pauses)


class HistoryEntry(Schema):
    at = fields.DateTime()
    actor = fields.String()
    action = fields.String()
    bpmn_id = fields.String(allow_none=True)
    name = fields.String()
    data = fields.Dict()


class TicketSummary(Schema):
    number = fields.String()
    type = fields.String()
    channel = fields.String()
    title = fields.String()
    organisation = fields.String()
    reporter_name = fields.String()
    priority = fields.String()
    status = fields.String()
    stage = fields.Method("stage_list")
    assignee = fields.String(allow_none=True)
    accepted_at = fields.DateTime()
    updated_at = fields.DateTime()

    def stage_list(self, ticket):
        return [s for s in (ticket.stage or "").split(",") if s]


class TicketDetail(TicketSummary):
    instance_id = fields.Integer(allow_none=True)
    version = fields.Method("version_number")
    description = fields.String()
    phone = fields.String()
    email = fields.String()
    device_model = fields.String()
    device_serial = fields.String()
    occurred_at = fields.DateTime(allow_none=True)
    category = fields.String()
    impact = fields.String()
    urgency = fields.String()
    project = fields.String()
    pm_group = fields.String()
    sla_calendar = fields.String()
    engineer = fields.String(allow_none=True)
    qualified = fields.Boolean()
    missing_fields = fields.List(fields.String())
    resolved_by = fields.String(allow_none=True)
    resolved_role = fields.String(allow_none=True)
    solution = fields.String()
    vendor_case = fields.String()
    satisfaction = fields.String(allow_none=True)
    reopened = fields.Integer()
    summary = fields.String()
    to_kb = fields.Boolean()
    organisation_id = fields.Integer(allow_none=True)
    contact_id = fields.Integer(allow_none=True)
    device_id = fields.Integer(allow_none=True)
    notes = fields.List(fields.Nested("Note"))
    attachments = fields.List(fields.Nested("AttachmentInfo"))
    created_by = fields.String()
    # the moments the desk's rules measure, by the names scripts and the KPIs use
    responded_at = fields.DateTime(allow_none=True)
    handoff_at = fields.DateTime(allow_none=True)
    returned = fields.Integer()
    resolved_at = fields.DateTime(allow_none=True)
    callback_at = fields.DateTime(allow_none=True)
    callback_attempts = fields.Integer()
    closed_at = fields.DateTime(allow_none=True)
    complaint_about = fields.String(allow_none=True)
    chased = fields.Integer()
    sla = fields.Method("clocks")
    open_tasks = fields.List(fields.Nested(Task))
    history = fields.List(fields.Nested(HistoryEntry))
    onsite = fields.List(fields.Nested("Onsite"), dump_only=True)  # issue 14: filled in by the view
    kb_used = fields.List(fields.Integer(), dump_only=True)
    paused = fields.Boolean(dump_only=True)  # issue 10: the pause ledger
    pauses = fields.List(fields.Nested("PauseEntry"), dump_only=True)

    def version_number(self, ticket):
        return ticket.instance.version.version if ticket.instance else None  # imported history has no process

    def clocks(self, ticket):
        return {c.name: Clock().dump(c) for c in ticket.clocks}


class TicketPage(Schema):
    items = fields.List(fields.Nested(TicketSummary))
    total = fields.Integer()
    total_exact = fields.Boolean()  # false: at least ``total`` (the count stops at 1,000)
    has_next = fields.Boolean()
    page = fields.Integer()
    per_page = fields.Integer()


class Version(Schema):
    id = fields.Integer()
    key = fields.String()
    version = fields.Integer()
    name = fields.String()
    status = fields.String()
    note = fields.String()
    deployed_by = fields.String()
    deployed_at = fields.DateTime()
    content_hash = fields.String()
    files = fields.Method("file_names")

    def file_names(self, version):
        return sorted(version.files)


class StartRequest(Schema):
    data = fields.Dict(load_default=dict)


class Instance(Schema):
    id = fields.Integer()
    process_key = fields.String()
    version = fields.Method("version_number")
    status = fields.String()
    revision = fields.Integer()
    started_by = fields.String()
    started_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    next_timer_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    tasks = fields.List(fields.Nested(Task))
    data = fields.Dict()

    def version_number(self, instance):
        return instance.version.version


class Report(Schema):
    """``GET /api/kpi`` / ``/api/scorecard``: rates are {numerator, denominator, value}, the emergency
    figures {count, violations, tickets}; see engine.reporting.kpis for every definition."""

    period = fields.Dict()
    timely_rate = fields.Dict()
    emergency_response = fields.Dict()
    emergency_close = fields.Dict()
    satisfaction_rate = fields.Dict()
    callback_rate = fields.Dict()
    dispatch_success_rate = fields.Dict()
    qualified_rate = fields.Dict()
    completeness_rate = fields.Dict()
    completion_rate = fields.Dict()
    mean_resolution_minutes = fields.Float(allow_none=True)
    answer_rate = fields.Dict()
    satisfaction_counts = fields.Dict()
    breakdowns = fields.Dict()
    targets = fields.Dict()
    scorecards = fields.List(fields.Dict())
# --- issue 14: notes, attachments, customer archive ---


class NoteRequest(Schema):
    text = fields.String(required=True)
    internal = fields.Boolean(load_default=True)


class Note(Schema):
    id = fields.Integer()
    author = fields.String()
    text = fields.String()
    internal = fields.Boolean()
    created_at = fields.DateTime()


class AttachmentInfo(Schema):
    id = fields.Integer()
    kind = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by = fields.String()
    uploaded_at = fields.DateTime()
    url = fields.Function(lambda a: f"/api/attachments/{a.id}")


class ContactInfo(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String()
    phone = fields.String()
    phone2 = fields.String()
    email = fields.String()
    role = fields.String()


class DeviceInfo(Schema):
    id = fields.Integer(dump_only=True)
    model = fields.String()
    serial = fields.String()
    location = fields.String()
    vendor = fields.String()
    site_id = fields.Integer(allow_none=True)
    warranty_until = fields.Date(allow_none=True)


class SiteInfo(Schema):
    id = fields.Integer()
    name = fields.String()
    address = fields.String()


class ContractInfo(Schema):
    id = fields.Integer()
    number = fields.String()
    sla_level = fields.String()
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    notes = fields.String()


class Customer(Schema):
    id = fields.Integer()
    name = fields.String()
    address = fields.String()
    notes = fields.String()
    created_by = fields.String()
    created_at = fields.DateTime()
    contacts = fields.List(fields.Nested(ContactInfo))
    devices = fields.List(fields.Nested(DeviceInfo))


class CustomerDetail(Customer):
    sites = fields.List(fields.Nested(SiteInfo))
    contracts = fields.List(fields.Nested(ContractInfo))


class CustomerRequest(Schema):
    name = fields.String(required=True)
    address = fields.String()
    notes = fields.String()
    contacts = fields.List(fields.Nested(ContactInfo))
    devices = fields.List(fields.Nested(DeviceInfo))


class CustomerPage(Schema):
    items = fields.List(fields.Nested(Customer))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class CustomerLink(Schema):
    organisation_id = fields.Integer(allow_none=True)
    contact_id = fields.Integer(allow_none=True)
    device_id = fields.Integer(allow_none=True)


# --- issue 14: knowledge base ---


class KbHit(Schema):
    id = fields.Integer()
    title = fields.String()
    status = fields.String()
    category = fields.String()
    device_model = fields.String()
    tags = fields.Function(lambda a: [t for t in (a.tags or "").split(",") if t])
    version = fields.Integer()
    valid_until = fields.Date(allow_none=True)
    updated_at = fields.DateTime()


class KbArticle(KbHit):
    symptom = fields.String()
    cause = fields.String()
    solution = fields.String()
    source_ticket_id = fields.Integer(allow_none=True)
    submitted_by = fields.String()
    submitted_at = fields.DateTime()
    updated_by = fields.String()
    reviewed_by = fields.String(allow_none=True)
    published_at = fields.DateTime(allow_none=True)


class KbVersion(Schema):
    version = fields.Integer()
    title = fields.String()
    symptom = fields.String()
    cause = fields.String()
    solution = fields.String()
    tags = fields.String()
    edited_by = fields.String()
    edited_at = fields.DateTime()


class KbUse(Schema):
    id = fields.Integer()
    article_id = fields.Integer()
    bpmn_id = fields.String(allow_none=True)
    used_by = fields.String()
    used_at = fields.DateTime()


class Onsite(Schema):
    id = fields.Integer()
    ticket_id = fields.Integer()
    engineer = fields.String()
    arrived_at = fields.DateTime()
    departed_at = fields.DateTime(allow_none=True)
    work_done = fields.String()
    parts = fields.String()
    risky_work = fields.Boolean()
    backup_done = fields.Boolean()
    backup_note = fields.String()
    backup_signer_name = fields.String()
    backup_signature_id = fields.Integer(allow_none=True)
    backup_confirmed_at = fields.DateTime(allow_none=True)
    opinion = fields.String()
    signer_name = fields.String()
    signer_phone = fields.String()
    signature_id = fields.Integer(allow_none=True)
    signature_url = fields.Function(lambda r: f"/api/attachments/{r.signature_id}" if r.signature_id else None)
    signed_at = fields.DateTime(allow_none=True)


class AnnouncementInfo(Schema):
    id = fields.Integer()
    title = fields.String()
    body = fields.String()
    audience = fields.String()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime(allow_none=True)
    created_by = fields.String()
    created_at = fields.DateTime()


# --- issue 15: channels (monitoring alarms, portal accounts) ---


class AlertmanagerAlert(Schema):
    class Meta:
        unknown = INCLUDE  # other fields are accepted and ignored

    status = fields.String(required=True, metadata={"enum": ["firing", "resolved"]})
    labels = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                         metadata={"description": "severity → priority (rules/alerts.dmn); organisation, category, "
                                                  "device_model, device_serial fill the ticket"})
    annotations = fields.Dict(keys=fields.String(), values=fields.String(),
                              metadata={"description": "summary is the ticket's title, description its text"})
    startsAt = fields.String(required=True, metadata={"format": "date-time"})
    endsAt = fields.String(metadata={"format": "date-time"})
    generatorURL = fields.String()
    fingerprint = fields.String(required=True)


class AlertmanagerWebhook(Schema):
    """Prometheus Alertmanager's webhook body (version 4), taken as it is."""

    class Meta:
        unknown = INCLUDE

    version = fields.String(required=True, metadata={"enum": ["4"]})
    status = fields.String()
    receiver = fields.String()
    groupKey = fields.String()
    commonLabels = fields.Dict(keys=fields.String(), values=fields.String())
    commonAnnotations = fields.Dict(keys=fields.String(), values=fields.String())
    externalURL = fields.String()
    alerts = fields.List(fields.Nested(AlertmanagerAlert), required=True)


class GenericAlert(Schema):
    """The plain format, one object (or a list of them)."""

    class Meta:
        unknown = INCLUDE

    summary = fields.String(required=True)
    fingerprint = fields.String(required=True)
    severity = fields.String()
    host = fields.String()
    source = fields.String()
    status = fields.String(metadata={"enum": ["firing", "resolved"]})
    description = fields.String()
    starts_at = fields.String(metadata={"format": "date-time"})


class AlertOutcome(Schema):
    fingerprint = fields.String()
    status = fields.String()
    ticket = fields.String(allow_none=True)
    action = fields.String(metadata={"enum": ["created", "repeated", "resolved", "noted", "ignored", "replayed"]})
    repeats = fields.Integer(metadata={"description": "with action repeated: how often it fired again"})
    reason = fields.String()


class AlertResult(Schema):
    tickets = fields.List(fields.String())
    alerts = fields.List(fields.Nested(AlertOutcome))


class PortalAccountRequest(Schema):
    class Meta:
        unknown = INCLUDE  # other fields are accepted and ignored

    email = fields.String(required=True, metadata={"description": "a contact's e-mail in the customer archive"})
    password = fields.String(metadata={"description": "generated when left out"})


class PortalAccount(Schema):
    username = fields.String()
    password = fields.String(metadata={"description": "shown this once"})
# --- issue 10: pause / resume ---


class PauseRequest(Schema):
    reason = fields.String(required=True, metadata={"description": "why the ticket waits (customer, vendor …)"})


class PauseEntry(Schema):
    """One row of the pause ledger, as ``pauses.as_json`` gives it."""

    from_ = fields.DateTime(data_key="from")
    to = fields.DateTime(allow_none=True)
    by = fields.String()
    resumed_by = fields.String(allow_none=True)
    reason = fields.String()
    step = fields.String()
    clocks = fields.List(fields.String())
    paused_minutes = fields.Dict(keys=fields.String(), values=fields.Float())


# --- issue 11: every endpoint's request and answer, as the API really takes and gives them ---


class Open(Schema):
    """A request whose other fields are accepted and ignored (the engine checks the ones it reads)."""

    class Meta:
        unknown = INCLUDE


class TicketRequest(Open):
    """The intake fields (the diagram's intake form decides which are required and how they are checked)."""

    type = fields.String(required=True, metadata={"enum": ["incident", "request", "consultation", "complaint"]})
    channel = fields.String(required=True, metadata={"enum": ["phone", "email", "fax", "web", "monitoring"]})
    title = fields.String(required=True, metadata={"maxLength": 300})
    description = fields.String(required=True, metadata={"maxLength": 20000})
    reporter_name = fields.String(metadata={"maxLength": 120})
    organisation = fields.String(metadata={"maxLength": 200})
    phone = fields.String(metadata={"maxLength": 60})
    email = fields.String(metadata={"maxLength": 200})
    device_model = fields.String(metadata={"maxLength": 120})
    device_serial = fields.String(metadata={"maxLength": 120})
    occurred_at = fields.String(metadata={"format": "date-time"})
    complaint_about = fields.String(metadata={"maxLength": 32})


class SupplementRequest(Open):
    """Missing record fields (补录), any of the intake's."""

    reporter_name = fields.String(metadata={"maxLength": 120})
    organisation = fields.String(metadata={"maxLength": 200})
    phone = fields.String(metadata={"maxLength": 60})
    email = fields.String(metadata={"maxLength": 200})
    device_model = fields.String(metadata={"maxLength": 120})
    device_serial = fields.String(metadata={"maxLength": 120})


class CustomerUpdate(Open):
    name = fields.String(metadata={"maxLength": 200})
    address = fields.String(metadata={"maxLength": 300})
    notes = fields.String(metadata={"maxLength": 5000})


class KbRequest(Open):
    title = fields.String(required=True, metadata={"maxLength": 300})
    symptom = fields.String()
    cause = fields.String()
    solution = fields.String()
    category = fields.String(metadata={"maxLength": 80})
    device_model = fields.String(metadata={"maxLength": 120})
    tags = fields.List(fields.String())
    valid_until = fields.Date(allow_none=True)


class KbPublishRequest(Open):
    valid_until = fields.Date(allow_none=True)


class KbUseRequest(Open):
    ticket = fields.String(required=True, metadata={"description": "the ticket's number"})
    bpmn_id = fields.String(metadata={"description": "the step it helped with"})


class KbScored(KbHit):
    score = fields.Float()


class KbScoredPage(Schema):
    items = fields.List(fields.Nested(KbScored))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class KbScoredList(Schema):
    items = fields.List(fields.Nested(KbScored))


class KbArticleDetail(KbArticle):
    versions = fields.List(fields.Nested(KbVersion))


class OnsiteRequest(Open):
    arrived_at = fields.String(required=True, metadata={"format": "date-time"})
    departed_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    work_done = fields.String(required=True)
    parts = fields.String()
    risky_work = fields.Boolean()
    backup_done = fields.Boolean()
    backup_note = fields.String()


class SignRequest(Open):
    signer_name = fields.String(required=True, metadata={"maxLength": 120})
    signer_phone = fields.String(metadata={"maxLength": 60})
    signature = fields.String(required=True, metadata={"description": "data:image/png;base64,…"})
    opinion = fields.String()


class BackupRequest(Open):
    signer_name = fields.String(required=True, metadata={"maxLength": 120})
    signature = fields.String(required=True, metadata={"description": "data:image/png;base64,…"})


class AnnouncementRequest(Open):
    title = fields.String(required=True, metadata={"maxLength": 200})
    body = fields.String(metadata={"maxLength": 5000})
    audience = fields.String(metadata={"enum": ["all", "staff", "customers"]})
    starts_at = fields.String(metadata={"format": "date-time"})
    ends_at = fields.String(allow_none=True, metadata={"format": "date-time"})


class Me(Schema):
    username = fields.String()
    display_name = fields.String()
    roles = fields.List(fields.String())


class StartedInstance(Schema):
    id = fields.Integer()
    process_key = fields.String()
    version = fields.Integer()


class DeployResult(Schema):
    created = fields.List(fields.Nested(Version))


class VersionList(Schema):
    items = fields.List(fields.Nested(Version))


class TicketList(Schema):
    items = fields.List(fields.Nested(TicketSummary))


class NoteList(Schema):
    items = fields.List(fields.Nested(Note))


class AttachmentList(Schema):
    items = fields.List(fields.Nested(AttachmentInfo))


class AnnouncementList(Schema):
    items = fields.List(fields.Nested(AnnouncementInfo))


class InstanceDetail(Instance):
    """``GET /api/instances/{id}``: the instance with its READY tasks and current data."""
