"""The ``desk`` command: init, serve, worker, deploy, versions, user add/password, bench.

Each command builds the app (so it reads ``DATABASE_URL`` like the server does),
calls engine functions and commits once.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

import click
from sqlalchemy.orm import sessionmaker

from engine.authoring import versions as process_versions
from engine.desk import outbox, users, workdays
from engine.errors import EngineError, InvalidDefinition
from engine.runtime import definitions, timers
from engine.runtime.labels import LABELS_FILE

from . import THREADS, WORKERS, create_app, instance_folder, sessions
from .extensions import db

ROOT = Path(__file__).resolve().parent.parent


def _create_app():
    """``create_app``, or the reason it refuses to start (no secret key) and exit 1, without a traceback."""
    try:
        return create_app()
    except sessions.MissingSecretKey as exc:
        click.echo(f"错误 / error: {exc}", err=True)
        sys.exit(1)


def _app():
    """The app, its context pushed for this command and closed (session, pool) when it ends."""
    app = _create_app()
    app_context = app.app_context()
    app_context.push()

    def close() -> None:
        db.session.remove()
        db.engine.dispose()
        app_context.pop()

    click.get_current_context().call_on_close(close)
    return app


def _fail(error: EngineError) -> None:
    click.echo(f"错误 / error: {error.message}", err=True)
    for problem in getattr(error, "problems", []) or []:
        where = ":".join(str(p) for p in (problem.get("file"), problem.get("element")) if p)
        click.echo(f"  {where}: {problem.get('message')}", err=True)
    for field, messages in (getattr(error, "fields", None) or {}).items():
        click.echo(f"  {field}: {'; '.join(messages)}", err=True)
    sys.exit(1)


def read_bundle(paths: list[str]) -> dict[str, bytes]:
    """Every .bpmn and .dmn file under the given files and folders, and their label table, by file name."""
    files: dict[str, bytes] = {}
    for raw in paths:
        path = Path(raw)
        candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in candidates:
            if (file.suffix in (".bpmn", ".dmn") or file.name == LABELS_FILE) and file.is_file():
                if file.name in files:
                    raise click.UsageError(f"two files named {file.name} in the bundle")
                files[file.name] = file.read_bytes()
    if not files:
        raise click.UsageError("no .bpmn or .dmn files found in " + ", ".join(paths))
    return files


def upgrade_database() -> None:
    """Create or upgrade the schema through the Alembic migrations."""
    from flask_migrate import upgrade

    upgrade(directory=str(Path(__file__).parent / "migrations"))


@click.group()
def main() -> None:
    """服务台 — the service desk on BPMN."""


@main.command()
@click.option("--demo", is_flag=True, help="Create the demo users (password: demo).")
@click.option("--no-deploy", is_flag=True, help="Do not deploy bpmn/ and rules/.")
def init(demo: bool, no_deploy: bool) -> None:
    """Create the database and the session key, deploy bpmn/ and rules/, and optionally the demo users."""
    if not os.environ.get("SECRET_KEY") and sessions.ensure_key(instance_folder()):
        click.echo(f"secret key: made {os.path.join(instance_folder(), sessions.KEY_FILE)} (keep it private)")
    _app()
    upgrade_database()
    users.ensure_roles(db.session)
    if demo:
        created = users.add_demo_users(db.session)
        click.echo(f"demo users: {len(created)} created (password: demo)")
        from engine.desk import accounts  # issue 15: a demo customer with a portal account, a demo alert source

        for line in accounts.add_demo(db.session):
            click.echo(line)
    if not no_deploy:
        try:
            created = process_versions.deploy(db.session, read_bundle([str(ROOT / "bpmn"), str(ROOT / "rules")]),
                                         user="desk init", note="desk init")
        except EngineError as exc:
            db.session.rollback()
            _fail(exc)
        for version in created:
            click.echo(f"deployed {version.key} v{version.version}")
    db.session.commit()
    click.echo("database ready: " + db.engine.url.render_as_string(hide_password=True))


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--note", default="", help="What changed, for the version list.")
@click.option("--user", "username", default="cli", help="Recorded as the deployer.")
def deploy(paths: tuple[str, ...], note: str, username: str) -> None:
    """Deploy BPMN/DMN files or folders as one bundle; unchanged processes create nothing."""
    _app()
    try:
        created = process_versions.deploy(db.session, read_bundle(list(paths)), user=username, note=note)
    except InvalidDefinition as exc:
        db.session.rollback()
        _fail(exc)
    db.session.commit()
    if not created:
        click.echo("nothing changed; no new version")
    for version in created:
        click.echo(f"deployed {version.key} v{version.version} ({version.content_hash[:12]})")


@main.command()
@click.argument("key", required=False)
def versions(key: str | None) -> None:
    """List deployed versions."""
    _app()
    for v in definitions.list_versions(db.session, key):
        click.echo(f"{v.key:<20} v{v.version:<4} {v.status:<8} {v.deployed_at:%Y-%m-%d %H:%M} {v.deployed_by:<12} {v.note}")


@main.group()
def user() -> None:
    """Manage staff accounts."""


@user.command("add")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", "roles", multiple=True, required=True, help="Role code; repeat for several.")
@click.option("--name", "display_name", default="")
@click.option("--email", default="")
def user_add(username: str, password: str, roles: tuple[str, ...], display_name: str, email: str) -> None:
    """Add a user with one or more roles."""
    _app()
    users.ensure_roles(db.session)
    try:
        users.add_user(db.session, username, password, list(roles), display_name=display_name, email=email)
    except EngineError as exc:
        db.session.rollback()
        _fail(exc)
    db.session.commit()
    click.echo(f"user {username} added with roles {', '.join(roles)}")


@user.command("password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def user_password(username: str, password: str) -> None:
    """Set a user's password; their open sessions end and their API tokens are revoked."""
    _app()
    try:
        revoked = users.set_password(db.session, users.get_user(db.session, username), password)
    except EngineError as exc:
        db.session.rollback()
        _fail(exc)
    db.session.commit()
    click.echo(f"password of {username} changed; their sessions have ended, {revoked} API token(s) revoked")


@user.command("tokens")
@click.argument("username")
@click.option("--revoke", "revoke", type=int, multiple=True, help="Revoke the token with this id; repeat for several.")
@click.option("--revoke-all", is_flag=True, help="Revoke every token the user holds.")
def user_tokens(username: str, revoke: tuple[int, ...], revoke_all: bool) -> None:
    """List a user's API tokens that still work (id, issued, expires, last used; UTC), or revoke them."""
    _app()
    try:
        user = users.get_user(db.session, username)
        if revoke_all:
            revoked = users.revoke_tokens(db.session, user)
        else:
            for token_id in revoke:
                users.revoke_token(db.session, user, token_id)
            revoked = len(revoke)
    except EngineError as exc:
        db.session.rollback()
        _fail(exc)
    db.session.commit()
    if revoke_all or revoke:
        click.echo(f"{revoked} API token(s) of {username} revoked")
        return
    click.echo(f"{'id':>8}  {'issued':<16}  {'expires':<16}  last used")
    for row in users.tokens_of(db.session, user):
        used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "-"
        click.echo(f"{row.id:>8}  {row.created_at:%Y-%m-%d %H:%M}  {row.expires_at:%Y-%m-%d %H:%M}  {used}")


@main.command()
@click.option("--max-sleep", default=1.0, show_default=True, help="Longest sleep between rounds, seconds.")
def worker(max_sleep: float) -> None:
    """Fire due timers until stopped (any number of workers may share a PostgreSQL database)."""
    _app()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    click.echo("timer worker running; Ctrl-C to stop")
    outbox.start_thread(sessionmaker(bind=db.engine), stop)  # issue 10: mail goes out beside the timers
    workdays.start_thread(sessionmaker(bind=db.engine), stop)  # issue 10: the admins' calendar, kept current
    timers.work(sessionmaker(bind=db.engine), stop, max_sleep=max_sleep)


def start_in_process_worker(app) -> threading.Event:
    """The SQLite server's own timer worker: one thread in the one gunicorn worker process."""
    stop = threading.Event()
    with app.app_context():
        factory = sessionmaker(bind=db.engine)
    thread = threading.Thread(target=timers.work, args=(factory, stop), name="desk-timers", daemon=True)
    thread.start()
    outbox.start_thread(factory, stop)  # issue 10: the outbox sender, its own thread
    workdays.start_thread(factory, stop)  # issue 10: the admins' calendar, kept current
    app.logger.warning("in-process timer worker started (pid %s)", os.getpid())
    return stop


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=None, type=int, help="gunicorn workers (SQLite: always 1, with threads).")
def serve(host: str, port: int, workers: int | None) -> None:
    """Serve the desk with gunicorn; on SQLite, with the timer worker in-process."""
    from gunicorn.app.base import BaseApplication

    app = _create_app()
    sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    in_process = sqlite or os.environ.get("DESK_IN_PROCESS_WORKER") == "1"

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", 1 if sqlite else (workers or WORKERS))
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", int(os.environ.get("DESK_THREADS", THREADS)))  # = the pool size, create_app
            self.cfg.set("accesslog", "-")
            if in_process:
                self.cfg.set("post_worker_init", lambda _worker: start_in_process_worker(app))

        def load(self):
            return app

    click.echo(f"服务台 serving on http://{host}:{port}/")
    _settle_heap()
    Server().run()


# The collector's first generation is collected after this many new objects, not 700:
# a ticket life's request allocates thousands, so at 700 the collector ran more than once a
# request and now and then walked every object the worker holds, the cached workflows
# among them: ~1.5 ms of CPU per completion, in-process (docs/benchmarks.md, run 11).
GC_THRESHOLD = (20_000, 20, 20)


def _settle_heap() -> None:
    """Before gunicorn forks: leave what start-up built out of every collection, collect less often.

    The app, its specs and compiled statements live as long as the worker; frozen, the
    collector never walks them again, and their pages stay shared with the master
    (a collection writes to every object it walks).
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


@main.group(invoke_without_command=True)
@click.option("--completions", default=200, show_default=True, help="Task completions to time.")
@click.pass_context
def bench(ctx, completions: int) -> None:
    """Engine cost per task completion and state size, against raw in-memory SpiffWorkflow.

    The subcommands measure the desk at scale: inbox, search, http, timers, loops (issue 12)
    and report (issue 9) on PostgreSQL; kb (issue 14) on a throw-away SQLite database.
    """
    if ctx.invoked_subcommand is not None:
        return
    from engine import bench as engine_bench

    for line in engine_bench.run(completions=completions):
        click.echo(line)


# desk bench inbox|search|http|calls|timers|loops (webforms/bench.py): each builds its data in --url, which is WIPED
_BENCH_URL = click.option("--url", envvar="DESK_BENCH_URL", required=True,
                          help="A PostgreSQL database to wipe and fill (or DESK_BENCH_URL).")
_SIZES = [
    click.option("--open", "open_", default=100_000, show_default=True, help="Open tickets in the large data set."),
    click.option("--closed", default=1_000_000, show_default=True, help="Closed tickets in the large data set."),
    click.option("--small-open", default=1_000, show_default=True, help="Open tickets in the small data set."),
    click.option("--small-closed", default=10_000, show_default=True, help="Closed tickets in the small data set."),
]


def _sized(command):
    for option in reversed(_SIZES):
        command = option(command)
    return _BENCH_URL(command)


def _echo(lines: Iterable[str]) -> None:
    for line in lines:
        click.echo(line)


@bench.command("inbox")
@_sized
@click.option("--repeat", default=40, show_default=True)
def bench_inbox(url, open_, closed, small_open, small_closed, repeat) -> None:
    """Task list, inbox pages and the bell, small vs large data set."""
    from . import bench as scale

    _echo(scale.inbox(url, small=(small_open, small_closed), large=(open_, closed), repeat=repeat))


@bench.command("search")
@_sized
@click.option("--repeat", default=40, show_default=True)
def bench_search(url, open_, closed, small_open, small_closed, repeat) -> None:
    """Ticket search (Chinese substrings, number prefixes) and list filters, small vs large."""
    from . import bench as scale

    _echo(scale.search_bench(url, small=(small_open, small_closed), large=(open_, closed), repeat=repeat))


@bench.command("http")
@_sized
@click.option("--workers", default=4, show_default=True, help="gunicorn workers (as in every run since the issue's).")
@click.option("--threads", default=THREADS, show_default=True, help="Threads per worker (= its connection pool; default: as desk serve).")
@click.option("--clients", default=16, show_default=True, help="Concurrent clients driving ticket lives.")
@click.option("--seconds", default=20.0, show_default=True, help="Length of each measured run.")
def bench_http(url, open_, closed, small_open, small_closed, workers, threads, clients, seconds) -> None:
    """Completions/s and latency through gunicorn, saturated and at about half that load."""
    from . import bench as scale

    _echo(scale.http_bench(url, small=(small_open, small_closed), large=(open_, closed), workers=workers,
                           threads=threads, clients=clients, seconds=seconds))


@bench.command("floor")
@_BENCH_URL
@click.option("--workers", default=4, show_default=True, help="gunicorn workers.")
@click.option("--threads", default=THREADS, show_default=True, help="Threads per worker (default: as desk serve).")
@click.option("--clients", default=8, show_default=True, help="Concurrent keep-alive clients.")
@click.option("--seconds", default=10.0, show_default=True, help="Length of each measured run.")
def bench_floor(url, workers, threads, clients, seconds) -> None:
    """What a call costs the server before it does any work: GET /api/me and /api/openapi.json, CPU per request."""
    from . import bench as scale

    _echo(scale.floor_bench(url, workers=workers, threads=threads, clients=clients, seconds=seconds))


@bench.command("calls")
@_BENCH_URL
@click.option("--lives", default=10, show_default=True, help="Ticket lives counted (after 5 warm-ups).")
def bench_calls(url, lives) -> None:
    """Statements and Python calls per request of a ticket life, counted (they do not swing like timings)."""
    from . import bench as scale

    _echo(scale.calls_bench(url, lives=lives))


@bench.command("timers")
@_BENCH_URL
@click.option("--pending", default=100_000, show_default=True, help="Instances waiting on a timer.")
@click.option("--due", default=1_000, show_default=True, help="How many of them fall due in the same second.")
@click.option("--workers", "worker_counts", default="1,4", show_default=True, help="Worker counts to run, comma-separated.")
@click.option("--lead", default=20.0, show_default=True, help="Seconds from building to the burst.")
@click.option("--kind", type=click.Choice(["flow", "sla", "sla-full"]), default="flow", show_default=True,
              help="flow: a timer that moves the flow (full step); sla: tickets' SLA marks (woken in SQL); "
                   "sla-full: the same tickets woken by the full step.")
def bench_timers(url, pending, due, worker_counts, lead, kind) -> None:
    """A burst of due timers among many pending: lag, firings/s, none lost, none twice."""
    from . import bench as scale

    counts = tuple(int(n) for n in worker_counts.split(",") if n.strip())
    _echo(scale.timers_bench(url, pending=pending, due=due, workers=counts, lead=lead, kind=kind))


@bench.command("loops")
@_BENCH_URL
@click.option("--loops", default=100, show_default=True, help="Times each ticket is reopened.")
@click.option("--tickets", "tickets_count", default=3, show_default=True)
def bench_loops(url, loops, tickets_count) -> None:
    """The cost of a completion at reopen loop 1, 10, 50, N."""
    from . import bench as scale

    _echo(scale.loops_bench(url, loops=loops, tickets_count=tickets_count))


@bench.command("report")
@click.option("--tickets", default=1_000_000, show_default=True, help="Tickets to build (calls: half as many).")
@click.option("--months", default=36, show_default=True, help="Months the tickets are spread over.")
@click.option("--repeat", default=5, show_default=True, help="Timed runs.")
@click.option("--keep", is_flag=True, help="Keep the schema desk_bench_report afterwards.")
@click.option("--database-url", envvar="DATABASE_URL", default="", help="PostgreSQL (default: DATABASE_URL).")
def bench_report(tickets: int, months: int, repeat: int, keep: bool, database_url: str) -> None:
    """One month's KPIs and scorecards over many tickets on PostgreSQL (target: 1,000,000 in ≤ 1 s)."""
    from engine.reporting import bench as report_bench

    lines = report_bench.run(database_url, tickets=tickets, months=months, repeat=repeat, keep=keep)
    for line in lines:
        click.echo(line)
    if not database_url.startswith("postgresql"):
        sys.exit(1)


# --- issue 11: diagram code under hard limits (desk bench jail) ---


@bench.command("jail")
@click.option("--repeat", default=2000, show_default=True, help="Evaluations timed per path.")
@click.option("--completions", default=80, show_default=True, help="Task completions to time.")
def bench_jail(repeat: int, completions: int) -> None:
    """Per-evaluation latency of diagram code in-process and in the pooled child, and per task completion."""
    from engine import bench as engine_bench

    _echo(engine_bench.run_jail(repeat=repeat, completions=completions))


# --- issue 14: knowledge-base search speed (desk bench kb) ---


@bench.command("kb")
@click.option("--articles", default=10_000, show_default=True, help="Published articles to search.")
@click.option("--queries", default=200, show_default=True, help="Searches to time.")
def bench_kb(articles: int, queries: int) -> None:
    """Chinese knowledge-base search time over N articles (a throw-away SQLite database)."""
    from engine import bench as engine_bench

    for line in engine_bench.run_kb(articles=articles, queries=queries):
        click.echo(line)


# --- process owners and admins: process tests, migrating instances (engine.authoring.scenarios, engine.authoring.migration) ---


def _test_bundle(paths: list[str]) -> dict[str, bytes]:
    """The .bpmn/.dmn files of ``read_bundle`` plus the ``<key>.scenarios.json`` tests beside them."""
    from engine.authoring.scenarios import SUFFIX

    files = read_bundle(paths)
    for raw in paths:
        path = Path(raw)
        for file in sorted(path.rglob("*" + SUFFIX)) if path.is_dir() else [path]:
            if file.name.endswith(SUFFIX) and file.is_file():
                files[file.name] = file.read_bytes()
    return files


@main.command("test-process")
@click.argument("paths", nargs=-1)
def test_process(paths: tuple[str, ...]) -> None:
    """Validate diagrams and run their scenarios (default: bpmn/ and rules/); exit 1 on any failure."""
    from engine.authoring import scenarios, validation
    from engine.desk.users import ROLES

    files = _test_bundle(list(paths) or [str(ROOT / "bpmn"), str(ROOT / "rules")])
    problems = validation.validate(files, roles={name for role in ROLES for name in role})
    for p in problems:
        where = ":".join(str(x) for x in (p["file"], p["element"]) if x)
        click.echo(f"{'错误 error' if p['severity'] == 'error' else '警告 warning'}  {where}: {p['message']}")
    report = scenarios.run(files)
    for message in report["problems"]:
        click.echo(f"错误 error  {message}")
    for result in report["results"]:
        mark = "通过 PASS" if result["passed"] else "失败 FAIL"
        click.echo(f"{mark}  {result['process']}: {result['name']}")
        if not result["passed"]:
            click.echo(f"      {result['difference']}")
            click.echo(f"      path: {' → '.join(result['path'])}")
    click.echo(f"{report['count'] - report['failed']}/{report['count']} scenarios passed")
    if validation.has_errors(problems) or not report["passed"]:
        sys.exit(1)


def _cli_admin(username: str):
    """The admin account named, or (for an operator at the server's shell) an unsaved admin of that name."""
    from engine.models import Role, User

    user = users.by_username(db.session, username)
    if user is not None:
        if not user.has_role("admin"):
            raise click.UsageError(f"{username} is not an admin")
        return user
    return User(username=username, display_name=username, roles=[db.session.get(Role, "admin") or Role(code="admin", name="系统管理员")])


@main.command("migrate-instances")
@click.option("--key", required=True, help="Process key, e.g. service_desk.")
@click.option("--from", "from_version", required=True, type=int, help="Version the instances run on now.")
@click.option("--to", "to_version", required=True, type=int, help="Version to move them to.")
@click.option("--instance", "instance_ids", multiple=True, type=int, help="Only these instances; repeat for several.")
@click.option("--recompute-timers", is_flag=True, help="Re-evaluate waiting timers from the new diagram.")
@click.option("--dry-run", is_flag=True, help="Only show what would happen.")
@click.option("--user", "username", default="cli", show_default=True, help="Recorded in the audit trail.")
def migrate_instances(key, from_version, to_version, instance_ids, recompute_timers, dry_run, username) -> None:
    """Move running instances of one version to another, one transaction per instance; exit 1 if any is refused."""
    from engine.authoring import migration

    _app()
    try:
        plans = migration.preview(db.session, key, from_version, to_version, instance_ids=list(instance_ids) or None,
                                  recompute_timers=recompute_timers)
    except EngineError as exc:
        db.session.rollback()
        _fail(exc)
    db.session.rollback()
    refused = 0
    for plan in plans:
        label = f"#{plan.instance_id}" + (f" {plan.ticket}" if plan.ticket else "")
        if not plan.migratable:
            refused += 1
            click.echo(f"拒绝 refused  {label}: {'; '.join(plan.reasons)}")
            continue
        tasks = ", ".join(f"{t['bpmn_id']} {t['action']}" for t in plan.tasks) or "-"
        timers = ", ".join(f"{t['bpmn_id']} {t['action']}" for t in plan.timers) or "-"
        if dry_run:
            click.echo(f"可迁移 would migrate  {label}: tasks {tasks}; timers {timers}")
            continue
        try:
            target = definitions.get_version(db.session, key, to_version)
            migration.migrate(db.session, plan.instance_id, target, user=_cli_admin(username),
                              recompute_timers=recompute_timers)
            db.session.commit()
            click.echo(f"已迁移 migrated  {label} → v{to_version}: tasks {tasks}; timers {timers}")
        except EngineError as exc:
            db.session.rollback()
            refused += 1
            click.echo(f"拒绝 refused  {label}: {exc.message}")
    if not plans:
        click.echo(f"no running instances of {key} v{from_version}")
    if refused:
        sys.exit(1)


# --- reports and history import (engine.reporting) ---


def _period(period: str | None, cycle: str | None, first: str | None, last: str | None):
    from engine.reporting import periods

    app = _app()
    try:
        return periods.parse(period=period, cycle=cycle, first=first, last=last,
                             cycle_start=app.config["DESK_CYCLE_START_DAY"])
    except EngineError as exc:
        _fail(exc)


def _period_options(command):
    for option in reversed((
        click.option("--period", help="2026-10 (month), 2026-Q4, 2026-H2 or 2026 (year)."),
        click.option("--cycle", help="The assessment cycle named by the month it ends in: 2026-11 = 10-21 … 11-20."),
        click.option("--from", "first", help="First local day, YYYY-MM-DD (with --to)."),
        click.option("--to", "last", help="Last local day, included."),
        click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx"]), default="json", show_default=True),
        click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file (xlsx needs one)."),
    )):
        command = option(command)
    return command


def _emit(report: dict, fmt: str, output: str | None) -> None:
    import json

    from engine.reporting import reports

    if fmt == "json":
        data = json.dumps(report, ensure_ascii=False, indent=2).encode()
    elif fmt == "csv":
        data = reports.to_csv(report)
    else:
        if not output:
            raise click.UsageError("--format xlsx needs --output FILE.xlsx")
        data = reports.to_xlsx(report)
    if output:
        Path(output).write_bytes(data)
        click.echo(f"written {output}", err=True)
    else:
        click.echo(data.decode())


@main.group()
def report() -> None:
    """KPIs and scorecards of a period (Asia/Shanghai whole days)."""


@report.command("kpi")
@_period_options
def report_kpi(period, cycle, first, last, fmt, output) -> None:
    """Every KPI, the satisfaction mix, the breakdowns and both scorecards of the period."""
    from engine.reporting import reports

    chosen = _period(period, cycle, first, last)
    _emit(reports.kpi_report(db.session, chosen), fmt, output)
    db.session.rollback()


@report.command("scorecard")
@_period_options
def report_scorecard(period, cycle, first, last, fmt, output) -> None:
    """Both scorecards of the period: each item, its deductions by ticket, and the waived ones."""
    from engine.reporting import reports

    chosen = _period(period, cycle, first, last)
    _emit(reports.scorecard_report(db.session, chosen), fmt, output)
    db.session.rollback()



@main.group("import")
def import_() -> None:
    """History import: tickets from a ledger (工单台账), calls from the exchange (CSV or XLSX)."""


def _import(kind: str, path: str, dry_run: bool, username: str) -> None:
    from engine.reporting import imports

    _app()
    data = Path(path).read_bytes()
    try:
        result = (imports.preview if dry_run else lambda *a: imports.run(*a, user=username))(
            db.session, kind, Path(path).name, data)
    except EngineError as exc:
        db.session.rollback()
        _fail(exc)
    for line, reason in result.errors:
        click.echo(f"第 {line} 行 line {line}: {reason}", err=True)
    if result.ignored_columns:
        click.echo("忽略的列 ignored columns: " + ", ".join(result.ignored_columns), err=True)
    if result.errors:
        sys.exit(1)
    verb = "would import" if dry_run else "imported"
    click.echo(f"{verb} {len(result.new)} {kind}; {len(result.existing)} already there; {result.total} rows read")
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()


@import_.command("tickets")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Only check the file and say what would be imported.")
@click.option("--user", "username", default="cli", show_default=True, help="Recorded as the importer.")
def import_tickets(path: str, dry_run: bool, username: str) -> None:
    """Tickets from a ledger: history records with no process; the same file twice adds nothing."""
    _import("tickets", path, dry_run, username)


@import_.command("calls")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Only check the file and say what would be imported.")
@click.option("--user", "username", default="cli", show_default=True, help="Recorded as the importer.")
def import_calls(path: str, dry_run: bool, username: str) -> None:
    """Calls (call_id, ring_at, answered_at, agent, caller) for the answer rate."""
    _import("calls", path, dry_run, username)


# --- issue 15: channels (monitoring alarms, mail in) ---


@main.group("alert-source")
def alert_source() -> None:
    """Monitoring systems that may raise alarms through POST /api/alerts."""


@alert_source.command("add")
@click.argument("name")
@click.option("--organisation", default="", help="Who runs the monitored systems (the ticket's 单位).")
@click.option("--email", default="", help="Contact e-mail for the alarms' tickets.")
@click.option("--phone", default="", help="Contact phone for the alarms' tickets.")
def alert_source_add(name: str, organisation: str, email: str, phone: str) -> None:
    """Add an alert source and print its token (shown only this once; only its hash is kept)."""
    from engine.desk import channels

    _app()
    try:
        _source, token = channels.add_source(db.session, name, organisation=organisation, email=email, phone=phone)
    except EngineError as exc:
        db.session.rollback()
        _fail(exc)
    db.session.commit()
    click.echo(token)


@alert_source.command("list")
def alert_source_list() -> None:
    """List alert sources and when each last sent an alarm."""
    from engine.desk import channels

    _app()
    for source in channels.list_sources(db.session):
        used = f"{source.last_used_at:%Y-%m-%d %H:%M}" if source.last_used_at else "-"
        click.echo(f"{source.name:<24} {'active' if source.active else 'disabled':<9} {used:<17} {source.organisation}")


def _mail_options(app) -> dict:
    return {"store": Path(app.config["DESK_ATTACHMENTS_DIR"]),
            "max_attachment_bytes": int(app.config["DESK_ATTACHMENT_MAX_BYTES"])}


@main.command("mail-receive")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=2525, show_default=True, type=int)
@click.option("--address", "addresses", multiple=True,
              help="Accept mail only for this address (repeat); default: any recipient.")
def mail_receive(host: str, port: int, addresses: tuple[str, ...]) -> None:
    """Listen as an SMTP server: customers' mail becomes tickets or replies (engine.runtime.mailin)."""
    from engine.runtime import mailboxes

    app = _app()
    handler = mailboxes.DeskSmtpHandler(sessionmaker(bind=db.engine), addresses=set(addresses), **_mail_options(app))
    server = mailboxes.smtp_server(handler, host=host, port=port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start()
    click.echo(f"accepting mail for the desk on {host}:{port}; Ctrl-C to stop")
    try:
        stop.wait()
    finally:
        server.stop()


@main.command("mail-fetch")
@click.option("--host", default=None, help="IMAP server (default DESK_IMAP_HOST).")
@click.option("--port", default=None, type=int, help="Default DESK_IMAP_PORT, else 993 (ssl) / 143.")
@click.option("--tls", type=click.Choice(["ssl", "starttls", "none"]), default=None, help="Default DESK_IMAP_TLS, else ssl.")
@click.option("--user", default=None, help="Default DESK_IMAP_USER; the password comes from DESK_IMAP_PASSWORD.")
@click.option("--folder", default=None, help="Default DESK_IMAP_FOLDER, else INBOX.")
@click.option("--every", default=0, type=float, help="Poll again every this many seconds (default: once).")
def mail_fetch(host, port, tls, user, folder, every: float) -> None:
    """Take the unseen mail of an IMAP mailbox in: new tickets, replies, the rest ignored or quarantined."""
    import imaplib

    from engine.runtime import mailboxes

    app = _app()
    settings = mailboxes.ImapSettings.from_env()
    if tls is not None:
        settings.tls = "" if tls == "none" else tls
        settings.port = 993 if settings.tls == "ssl" else 143
    for name, value in (("host", host), ("port", port), ("user", user), ("folder", folder)):
        if value is not None:
            setattr(settings, name, value)
    if not settings.host:
        raise click.UsageError("no IMAP server: give --host or set DESK_IMAP_HOST")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while True:
        try:
            counts = mailboxes.fetch(settings, sessionmaker(bind=db.engine), **_mail_options(app))
        except (imaplib.IMAP4.error, OSError) as exc:
            click.echo(f"错误 / error: IMAP {settings.host}:{settings.port}: {exc}", err=True)
            if not every:
                sys.exit(1)
        else:
            click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
        if not every or stop.wait(every):
            break


@main.group("customer-account")
def customer_account() -> None:
    """Portal accounts for the contacts of the customer archive."""


@customer_account.command("add")
@click.argument("email")
@click.option("--password", default=None, help="Default: a generated one, printed once.")
def customer_account_add(email: str, password: str | None) -> None:
    """Give the archive's contact with this e-mail a portal account; prints the password."""
    from engine.desk import accounts

    _app()
    try:
        user, password = accounts.add_account(db.session, email, password)
    except EngineError as exc:
        db.session.rollback()
        _fail(exc)
    db.session.commit()
    click.echo(f"portal account {user.username}: {password}")


if __name__ == "__main__":
    main()

