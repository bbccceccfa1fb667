"""Processes: how process owners change the desk and admins decide what runs.

Process owners open a deployed version (or upload files from Camunda Modeler)
as a draft, edit diagrams and rule tables in the browser (bpmn-js with the
Camunda properties panel, dmn-js), validate, save and run the process tests.
Admins deploy a draft as the next version, retire versions, compare any two,
and move running instances from one version to another after a preview.

Views read input, call one engine function (``engine.authoring.drafts``, ``validation``,
``scenarios``, ``versions``, ``migration``), commit, and render or redirect.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.authoring import cockpit, drafts, migration, scenarios, validation, versions
from engine.errors import EngineError, Invalid
from engine.models import ProcessVersion
from engine.runtime import definitions, instances

from ..auth import staff, staff_required
from ..extensions import db
from ..i18n import diagram_words, engine_text, local_time
from ..inputs import MAX_ID
from ..tickets.pages import people
from .runs import limited

bp = Blueprint("processes", __name__, url_prefix="/processes")

EDITORS = drafts.EDITORS
ADMIN = ("admin",)
MIME = {".bpmn": "application/xml", ".dmn": "application/xml", ".json": "application/json"}


def _json_files() -> dict:
    body = request.get_json(silent=True)
    files = body.get("files") if isinstance(body, dict) else None
    if not isinstance(files, dict) or not all(isinstance(k, str) for k in files):
        raise Invalid("请求应包含 files 对象 / the request must hold a files object")
    return files


def _download(name: str, text: str) -> Response:
    suffix = "." + name.rsplit(".", 1)[-1]
    return Response(text, mimetype=MIME.get(suffix, "text/plain"),
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})


# --------------------------------------------------------------------------- list


@bp.get("/")
@staff_required(*EDITORS)
def index():
    return render_template("processes/index.html", processes=versions.overview(db.session),
                           drafts=drafts.list_drafts(db.session), is_admin=staff().has_role("admin"),
                           called=cockpit.called_runs(db.session), failed=len(cockpit.failed(db.session)))


# --------------------------------------------------------------------------- drafts


@bp.post("/drafts")
@staff_required(*EDITORS)
def create_draft():
    """From a version's "edit" button (form), or "save as draft" in the modeler (JSON with the edited files)."""
    body = request.get_json(silent=True) if request.is_json else None
    source = body or request.form
    raw = str(source.get("version_id") or "").strip()
    version = db.session.get(ProcessVersion, int(raw)) if raw.isascii() and raw.isdigit() and int(raw) <= MAX_ID else None
    if version is None:
        abort(404)
    draft = drafts.create(db.session, user=staff(), version=version, name=source.get("name") or "")
    if body and isinstance(body.get("files"), dict):
        drafts.save(db.session, draft.id, body["files"], user=staff())
    db.session.commit()
    url = url_for("processes.edit_draft", draft_id=draft.id)
    return jsonify({"id": draft.id, "url": url}) if body else redirect(url)


@bp.post("/drafts/upload")
@staff_required(*EDITORS)
def upload_draft():
    """Files made in Camunda Modeler become a new draft."""
    files = {(u.filename or "").rsplit("/", 1)[-1]: u.read() for u in request.files.getlist("files") if u.filename}
    try:
        draft = drafts.create(db.session, user=staff(), files=files, name=request.form.get("name", ""))
    except Invalid as exc:  # nothing kept: the list again, with what was wrong
        db.session.rollback()
        problems = getattr(exc, "problems", None)
        flash("; ".join(p["message"] if p["message"].startswith(p["file"]) else f"{p['file']}: {p['message']}"
                        for p in problems) if problems else engine_text(exc.message), "error")
        return index(), 422
    db.session.commit()
    return redirect(url_for("processes.edit_draft", draft_id=draft.id))


def _modeler(*, draft=None, version=None, deploy_error: EngineError | None = None, status: int = 200):
    files = draft.files if draft is not None else drafts.with_scenarios(version)
    key = draft.process_key if draft is not None else version.key
    data = {
        "main": next((n for n in sorted(files) if n.endswith(".bpmn") and key in drafts.process_ids({n: files[n]})), None),
        "mode": "draft" if draft is not None else "version",
        "draftId": draft.id if draft is not None else None,
        "versionId": version.id if version is not None else draft.base_version_id,
        "files": files,
        "urls": {
            "validate": url_for("processes.validate"),
            "test": url_for("processes.test_draft", draft_id=draft.id) if draft else url_for("processes.test_files"),
            "testFiles": url_for("processes.test_files"),
            "save": url_for("processes.save_draft", draft_id=draft.id) if draft else url_for("processes.create_draft"),
        },
        "report": draft.last_test_report if draft is not None else None,
        "problems": getattr(deploy_error, "problems", None),
    }
    return render_template("processes/modeler.html", draft=draft, version=version, data=data,
                           is_admin=staff().has_role("admin"), deploy_error=deploy_error), status


@bp.get("/drafts/<int:draft_id>")
@staff_required(*EDITORS)
def edit_draft(draft_id: int):
    return _modeler(draft=drafts.get(db.session, draft_id))


@bp.post("/drafts/<int:draft_id>/files")
@staff_required(*EDITORS)
def save_draft(draft_id: int):
    draft = drafts.save(db.session, draft_id, _json_files(), user=staff())
    db.session.commit()
    return jsonify({"id": draft.id, "updated_at": draft.updated_at.isoformat(), "author": draft.author,
                    "saved_at": local_time(draft.updated_at, "HH:mm:ss")})  # the desk's time zone, as every page


@bp.post("/drafts/<int:draft_id>/test")
@staff_required(*EDITORS)
@limited
def test_draft(draft_id: int):
    """Run the draft's process tests (as saved) and remember the result on the draft."""
    draft = drafts.get(db.session, draft_id)
    files, saved_at = dict(draft.files), draft.updated_at
    db.session.rollback()  # the tests take a while: hold no database transaction (SQLite: the write lock) meanwhile
    report = scenarios.run(files)
    draft = drafts.get(db.session, draft_id)
    if draft.updated_at == saved_at:  # not saved again in the meantime
        drafts.record_test(draft, report)
        db.session.commit()
    return jsonify(report)


@bp.post("/test")
@staff_required(*EDITORS)
@limited
def test_files():
    files = _json_files()
    db.session.rollback()  # as above: nothing to store, no transaction to hold
    return jsonify(scenarios.run(files))


@bp.post("/validate")
@staff_required(*EDITORS)
@limited
def validate():
    problems = validation.validate_bundle(db.session, _json_files())
    return jsonify({"problems": problems, "errors": validation.has_errors(problems)})


@bp.get("/drafts/<int:draft_id>/files/<path:name>")
@staff_required(*EDITORS)
def draft_file(draft_id: int, name: str):
    draft = drafts.get(db.session, draft_id)
    if name not in draft.files:
        abort(404)
    return _download(name, draft.files[name])


@bp.post("/drafts/<int:draft_id>/delete")
@staff_required(*EDITORS)
def delete_draft(draft_id: int):
    drafts.delete(db.session, draft_id, user=staff())
    db.session.commit()
    flash(_("Draft deleted."), "success")
    return redirect(url_for("processes.index"))


@bp.post("/drafts/<int:draft_id>/deploy")
@staff_required(*ADMIN)
def deploy_draft(draft_id: int):
    try:
        created = versions.deploy_draft(db.session, draft_id, user=staff(), note=request.form.get("note", ""),
                                        override_reason=request.form.get("override_reason") or None)
    except EngineError as exc:
        db.session.rollback()
        draft = drafts.get(db.session, draft_id)
        if isinstance(exc, versions.ScenariosFailed):  # keep the report the admin is looking at
            drafts.record_test(draft, exc.report)
            db.session.commit()
        if _wants_json():  # the modeler deploys in place: it keeps the page and shows why
            return jsonify(exc.to_dict()), 422
        return _modeler(draft=draft, deploy_error=exc, status=422)
    db.session.commit()
    names = ", ".join(f"{v.key} v{v.version}" for v in created)
    flash(_("Deployed %(names)s.", names=names), "success")
    if _wants_json():
        return jsonify({"url": url_for("processes.index"), "created": names})
    return redirect(url_for("processes.index"))


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


# --------------------------------------------------------------------------- versions


def _version(key: str, number: int):
    return definitions.get_version(db.session, key, number)


@bp.get("/<key>/versions/<int:number>")
@staff_required(*EDITORS)
def show_version(key: str, number: int):
    return _modeler(version=_version(key, number))


@bp.get("/<key>/versions/<int:number>/files/<path:name>")
@staff_required(*EDITORS)
def version_file(key: str, number: int, name: str):
    files = drafts.with_scenarios(_version(key, number))
    if name not in files:
        abort(404)
    return _download(name, files[name])


@bp.post("/<key>/versions/<int:number>/retire")
@staff_required(*ADMIN)
def retire(key: str, number: int):
    versions.retire(db.session, key, number, user=staff())
    db.session.commit()
    flash(_("%(key)s v%(n)s retired: new instances use the latest active version.", key=key, n=number), "success")
    return redirect(url_for("processes.index"))


@bp.post("/<key>/versions/<int:number>/activate")
@staff_required(*ADMIN)
def activate(key: str, number: int):
    versions.activate(db.session, key, number, user=staff())
    db.session.commit()
    flash(_("%(key)s v%(n)s is active again.", key=key, n=number), "success")
    return redirect(url_for("processes.index"))


@bp.get("/<key>/diff")
@staff_required(*EDITORS)
def diff(key: str):
    numbers = [v.version for v in definitions.list_versions(db.session, key)]
    if not numbers:
        abort(404)
    new = request.args.get("b", type=int) or numbers[-1]
    old = request.args.get("a", type=int) or (numbers[-2] if len(numbers) > 1 else numbers[-1])
    result = versions.diff(db.session, key, old, new)
    a, b = _version(key, old), _version(key, new)
    shown = sorted(name for name, marks in result["files"].items() if any(marks.values()) and name.endswith(".bpmn"))
    data = {"mode": "diff", "old": {n: a.files.get(n) for n in shown}, "new": {n: b.files.get(n) for n in shown},
            "marks": result["files"]}
    return render_template("processes/diff.html", key=key, old=old, new=new, numbers=numbers, result=result,
                           shown=shown, data=data)


# --------------------------------------------------------------------------- the cockpit


@bp.get("/<key>/versions/<int:number>/cockpit")
@staff_required(*ADMIN)
def cockpit_page(key: str, number: int):
    """Where the version's running instances wait (counts on its diagrams), and the failed ones."""
    version = _version(key, number)
    counts = cockpit.positions(db.session, version)
    bpmn = sorted(n for n in version.files if n.endswith(".bpmn"))
    main = [n for n in bpmn if key in drafts.process_ids({n: version.files[n]})]
    files = main + [n for n in bpmn if n not in main]
    data = {"files": [{"name": n, "xml": version.files[n]} for n in files], "marks": {}, "counts": counts,
            "names": diagram_words(version).data.get("elements", {})}
    return render_template("processes/cockpit.html", key=key, version=version, data=data,
                           failed=cockpit.failed(db.session, key), waiting=sum(sum(c.values()) for c in counts.values()))


@bp.post("/instances/<int:instance_id>/retry")
@staff_required(*ADMIN)
def retry(instance_id: int):
    """Retry a failed instance after its cause was fixed; failing again keeps it in error with the new reason."""
    instance = instances.get(db.session, instance_id)
    back = url_for("processes.cockpit_page", key=instance.process_key, number=instance.version.version)
    try:
        instances.retry(db.session, instance_id, user=staff())
    except EngineError as exc:
        db.session.rollback()
        flash(engine_text(exc.message), "error")
        return redirect(back)
    except Exception as exc:  # the diagram's script failed again: record why, as the timer worker does
        db.session.rollback()
        failed = instances.get(db.session, instance_id)
        failed.last_error = f"{type(exc).__name__}: {exc}"
        db.session.commit()
        flash(_("Instance %(id)s failed again: %(reason)s", id=instance_id, reason=failed.last_error), "error")
        return redirect(back)
    db.session.commit()
    flash(_("Instance %(id)s runs again.", id=instance_id), "success")
    return redirect(back)


# --------------------------------------------------------------------------- migration


@bp.get("/<key>/migrate")
@staff_required(*ADMIN)
def migrate(key: str):
    numbers = [v.version for v in definitions.list_versions(db.session, key)]
    if not numbers:
        abort(404)
    target = request.args.get("to", type=int) or numbers[-1]
    source = request.args.get("from", type=int) or (numbers[-2] if len(numbers) > 1 else numbers[-1])
    recompute = request.args.get("recompute") == "1"
    chosen = request.args.getlist("instance", type=int)
    running = migration.running_instances(db.session, _version(key, source))
    plans = None
    if request.args.get("preview") and source != target:
        plans = migration.preview(db.session, key, source, target, instance_ids=chosen or None,
                                  recompute_timers=recompute)
    db.session.rollback()  # a preview changes nothing
    if plans:
        _name_plan_steps(plans, diagram_words(_version(key, target)), diagram_words(_version(key, source)))
    return render_template("processes/migrate.html", key=key, numbers=numbers, source=source, target=target,
                           recompute=recompute, chosen=set(chosen), running=running, plans=plans,
                           tickets=migration.ticket_numbers(db.session, [i.id for i in running]), names=people())


# what SpiffWorkflow's spec comparison says changed in a step, in words (other names shown as they are)
SPEC_CHANGES = {
    "bpmn_name": _l("name"), "documentation": _l("instructions"), "form": _l("form"), "lane": _l("lane"),
    "extensions": _l("properties"), "inputs": _l("incoming flows"), "outputs": _l("outgoing flows"),
    "typename": _l("type"), "cond_task_specs": _l("conditions"), "default_task_spec": _l("default flow"),
    "data_input_associations": _l("data inputs"), "data_output_associations": _l("data outputs"),
}  # fmt: skip


def _name_plan_steps(plans: list, target_words, source_words) -> None:
    """The preview's steps and timers by the page language's names: the target's table, else the source's."""
    for plan in plans:
        for item in (*plan.tasks, *plan.timers):
            item["name"] = target_words.element(item["bpmn_id"], source_words.element(item["bpmn_id"], item["name"]))
            if item.get("changes"):
                item["changes"] = [str(SPEC_CHANGES.get(c, c)) for c in item["changes"]]


@bp.post("/<key>/migrate")
@staff_required(*ADMIN)
def migrate_run(key: str):
    """One transaction per instance: a refused one leaves the others migrated."""
    target_number = request.form.get("to", type=int)
    recompute = request.form.get("recompute") == "1"
    done, refused = [], []
    for instance_id in request.form.getlist("instance", type=int):
        try:
            target = _version(key, target_number)
            migration.migrate(db.session, instance_id, target, user=staff(), recompute_timers=recompute)
            db.session.commit()
            done.append(instance_id)
        except EngineError as exc:
            db.session.rollback()
            refused.append(f"#{instance_id}: {engine_text(exc.message)}")
    if done:
        flash(_("Migrated %(n)s instance(s) to v%(v)s.", n=len(done), v=target_number), "success")
    for message in refused:
        flash(_("Not migrated %(reason)s", reason=message), "error")
    if not done and not refused:
        flash(_("Choose the instances to migrate."), "warn")
    return redirect(url_for("processes.migrate", key=key, to=target_number, **{"from": request.form.get("from")}))

