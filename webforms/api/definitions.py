from flask import g, request

from engine.authoring import versions
from engine.desk import access
from engine.errors import Invalid
from engine.models import HumanTask, TaskState
from engine.runtime import definitions, instances
from engine.runtime.labels import LABELS_FILE
from engine.runtime.serialization import jsonable

from ..extensions import db
from . import bp, token_required
from .schemas import Instance, StartRequest, Version, load
from .tasks import task_json


@bp.get("/definitions")
@token_required()
def list_definitions():
    return {"items": Version(many=True).dump(definitions.list_versions(db.session, request.args.get("key")))}


@bp.post("/definitions")
@token_required("admin")
def deploy_definitions():
    """Multipart upload of .bpmn/.dmn files and their label table (field name "files"), deployed as one bundle."""
    uploads = request.files.getlist("files")
    if not uploads:
        raise Invalid("请上传 BPMN/DMN 文件 / upload .bpmn/.dmn files in the 'files' field")
    files = {}
    for upload in uploads:
        name = (upload.filename or "").rsplit("/", 1)[-1]
        if not name.endswith((".bpmn", ".dmn")) and name != LABELS_FILE:
            raise Invalid(f"{name}: 只接受 .bpmn 和 .dmn 文件 / only .bpmn and .dmn files")
        files[name] = upload.read()
    created = versions.deploy(db.session, files, user=g.user.username, note=request.form.get("note", ""))
    db.session.commit()
    return {"created": Version(many=True).dump(created)}, (201 if created else 200)


@bp.post("/processes/<key>/instances")
@token_required("admin")
def start_instance(key: str):
    body = load(StartRequest(), request.get_json(silent=True) or {})
    instance = instances.start(db.session, key, user=g.user, data=body["data"])
    db.session.commit()
    return {"id": instance.id, "process_key": key, "version": instance.version.version}, 201


@bp.get("/instances/<int:instance_id>")
@token_required()
def get_instance(instance_id: int):
    """The instance's state and data; without the caller's fields for those who may not see them (issue 11)."""
    instance = access.check_instance(db.session, g.user, instances.get(db.session, instance_id))
    workflow = instances.read(instance)
    data = Instance(exclude=("tasks", "data")).dump(instance)
    data["data"] = access.instance_data(g.user, jsonable(instances.current_data(workflow)))
    rows = db.session.scalars(
        db.select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == TaskState.READY)
    )
    data["tasks"] = [task_json(r, with_form=access.can_see_customer_data(g.user)) for r in rows]
    return data
