"""The desk's Flask application: JSON API, pages, CLI. Talks to engine/ only."""

import os

from flask import Flask

# Request threads per gunicorn worker (``desk serve``), and so its connection pool. Four,
# not eight: on the 2-core machine, 8 threads a worker completed the fewest tasks per
# second of 2, 4 and 8 in three alternated rounds under the same 16 clients
# (docs/benchmarks.md, run 8): more requests inside Python at once only fight over the
# GIL, while the rest wait in the listen queue for free.
THREADS = 4
WORKERS = 2  # gunicorn workers on PostgreSQL (``desk serve --workers``)


def instance_folder() -> str:
    """The instance folder (database, attachments, secret key): DESK_INSTANCE_PATH, else Flask's ``instance/``."""
    configured = os.environ.get("DESK_INSTANCE_PATH")
    return os.path.abspath(configured) if configured else Flask(__name__).instance_path


def create_app(test_config: dict | None = None) -> Flask:
    from . import sessions

    app = Flask(__name__, instance_path=instance_folder(), instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("SECRET_KEY") or sessions.read_key(app.instance_path),  # none: refused below
        DESK_PROXY_HOPS=int(os.environ.get("DESK_PROXY_HOPS", "0")),  # proxies whose X-Forwarded-* to believe
        SQLALCHEMY_DATABASE_URI=os.environ.get(
            "DATABASE_URL", "sqlite:///" + os.path.join(app.instance_path, "desk.sqlite")
        ),
        DESK_TIMEZONE=os.environ.get("DESK_TIMEZONE", "Asia/Shanghai"),
        DESK_IN_PROCESS_WORKER=False,
        DESK_CYCLE_START_DAY=int(os.environ.get("DESK_CYCLE_START_DAY", "21")),  # the assessment cycle's first day
        DESK_ATTACHMENTS_DIR=os.environ.get("DESK_ATTACHMENTS_DIR", os.path.join(app.instance_path, "attachments")),
        DESK_ATTACHMENT_MAX_BYTES=int(os.environ.get("DESK_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)),
        DESK_API_TOKEN_DAYS=int(os.environ.get("DESK_API_TOKEN_DAYS", "30")),  # an API token's life, and its longest
    )
    if test_config:
        app.config.update(test_config)
    if not 1 <= app.config["DESK_API_TOKEN_DAYS"] <= 3650:  # a token's end must be a date: refused at start, not per call
        raise RuntimeError("DESK_API_TOKEN_DAYS 应为 1–3650 / must be 1 to 3650 days")
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # one connection per request thread of a gunicorn worker, plus the timer thread
        # (issue 12): sized to the workers, never more connections than can be used. The
        # overflow is for a ticket number, which takes a connection of its own for a moment
        # while its request holds one (engine.desk.tickets.next_number): with none spare,
        # requests that all hold one and wait for another would wait for each other.
        threads = int(os.environ.get("DESK_THREADS", THREADS))
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_size": threads + 1, "max_overflow": 2})

    from . import api, auth, clients, database, errors, i18n, inputs
    from .extensions import csrf
    from .inbox import pages as inbox
    from .notifications import pages as notifications
    from .processes import pages as processes
    from .reports import pages as reports
    from .tasks import pages as tasks
    from .tickets import pages as tickets
    from .calendars import pages as calendars  # issue 10
    from .customers import pages as customers
    from .knowledge import pages as knowledge
    from .onsite import pages as onsite
    from .announcements import pages as announcements
    from .portal import pages as portal  # issue 15: the customer portal
    from .channels import pages as channels  # issue 15: what the channels received
    from .pauses import pages as pauses  # issue 10
    from .roster import pages as roster  # issue 10

    inputs.init_app(app)  # issue 11: before the blueprints, whose rules take its <int:> converter
    sessions.init_app(app)  # refuses to start without a secret key
    clients.init_app(app)
    database.init_app(app)
    errors.init_app(app)
    csrf.init_app(app)
    csrf.exempt(api.bp)  # bearer tokens, no cookies
    i18n.init_app(app)
    auth.init_app(app)
    app.register_blueprint(api.bp)
    for page in (inbox, tasks, tickets, notifications, processes):
        app.register_blueprint(page.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(calendars.bp)  # issue 10
    for page in (customers, knowledge, onsite, announcements):  # issue 14
        app.register_blueprint(page.bp)
    app.register_blueprint(portal.bp)  # issue 15
    app.register_blueprint(channels.bp)  # issue 15
    app.register_blueprint(pauses.bp)  # issue 10
    app.register_blueprint(roster.bp)  # issue 10
    return app
