"""Signing in and out, and the decorator every page uses to check login and role.

Flask-Login keeps the engine's ``User`` behind a small ``Staff`` wrapper: the
engine model stays free of Flask, and views pass ``staff.user`` to the engine.
``engine.desk.users.authenticate`` checks the password and the throttle; a failed try
is committed so the count of failures survives the request. The session carries the
user's ``session_nonce``: signing out gives the user a new one, so a copied cookie
stops working (``webforms.sessions``).
"""

from __future__ import annotations

from functools import wraps

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired

from engine.desk import access, accounts, users
from engine.errors import Forbidden, TooManyAttempts
from engine.models import User

from . import clients
from .extensions import db, login_manager
from .i18n import engine_text, is_english
from .redirects import safe_next
from .sessions import NONCE

bp = Blueprint("auth", __name__)


class Staff(UserMixin):
    """The signed-in person as Flask-Login sees them; ``user`` is the engine's row."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return str(self.user.id)

    @property
    def is_active(self) -> bool:
        return bool(self.user.active)

    def __getattr__(self, name: str):
        return getattr(self.user, name)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired()])
    password = PasswordField(_l("Password"), validators=[InputRequired()])


@login_manager.user_loader
def load_user(user_id: str) -> Staff | None:
    """The session's user, unless they are inactive or signed out since (the nonce moved on)."""
    user = users.with_roles(db.session, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active or session.get(NONCE) != user.session_nonce:
        return None
    return Staff(user)


def sign_in(user: User) -> None:
    """Start a session for ``user`` (the staff and the portal login)."""
    login_user(Staff(user))
    session[NONCE] = user.session_nonce


def sign_out() -> None:
    """End this session and every copy of its cookie: the user's nonce moves on."""
    if current_user.is_authenticated:
        users.end_sessions(current_user.user)
        db.session.commit()
    logout_user()
    session.pop(NONCE, None)


def refused_status(error: Forbidden) -> int:
    """401 for a wrong password, 429 while the client has to wait."""
    return 429 if isinstance(error, TooManyAttempts) else 401


def staff() -> User:
    """The engine user behind the current request."""
    return current_user.user


def staff_required(*roles: str):
    """Require a signed-in user, and one of ``roles`` when given (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                if request.headers.get("HX-Request"):  # a partial refresh: send the whole page to sign in
                    return "", 401, {"HX-Redirect": url_for("auth.login")}
                return login_manager.unauthorized()
            if accounts.is_customer_only(current_user.user):  # the portal's customers stay in the portal
                return redirect(url_for("portal.index"))
            if roles and not current_user.user.has_role(*roles):
                raise Forbidden(_("You are not allowed to open this page."))
            return view(*args, **kwargs)

        return wrapper

    return decorator


@bp.route("/login", methods=("GET", "POST"))
def login():
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            user = users.authenticate(db.session, form.username.data, form.password.data, client=clients.address())
        except Forbidden as exc:
            db.session.commit()  # keep the count of failures that slows guessing down
            error, status = engine_text(exc.message), refused_status(exc)
        else:
            db.session.commit()
            sign_in(user)
            if accounts.is_customer_only(user):  # issue 15: a customer who came to the staff door
                return redirect(url_for("portal.index"))
            return redirect(safe_next(request.args.get("next"), url_for("inbox.index")))
    elif request.method == "POST":
        error, status = _("Enter your username and password."), 401
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    sign_out()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


# issue 11: tickets and the archive are customer data, which process owners do not read
READERS = tuple(code for code, _name, _name_en in users.ROLES if code not in access.NO_CUSTOMER_DATA)
# the sidebar: (section, endpoint, label, icon, roles that see it; none = everyone)
NAVIGATION = (
    ("inbox", "inbox.index", _l("Inbox"), "inbox", ()),
    ("new", "tickets.new", _l("New ticket"), "plus", ("agent", "lead", "admin")),
    ("tickets", "tickets.index", _l("Tickets"), "list", READERS),
    ("processes", "processes.index", _l("Processes / versions"), "flow", ("process_owner", "admin")),
    ("reports", "reports.index", _l("Reports"), "chart", ("lead", "admin")),
    ("customers", "customers.index", _l("Customers"), "user", READERS),
    ("knowledge", "knowledge.index", _l("Knowledge base"), "book", ()),
    ("announcements", "announcements.index", _l("Announcements"), "bell", ()),
    ("notifications", "notifications.templates", _l("Mail templates"), "bell", ("admin",)),  # issue 10
    ("calendars", "calendars.index", _l("Calendar"), "clock", ("admin", "lead")),  # issue 10
    ("channels", "channels.index", _l("Channels"), "inbox", ("agent", "lead", "admin")),  # issue 15
    ("roster", "roster.index", _l("Duty roster"), "user", ()),  # issue 10
)
SECTIONS = {"tasks": "inbox", "tickets.new": "new", "tickets.create": "new"}


def _section(endpoint: str | None) -> str:
    endpoint = endpoint or ""
    blueprint = endpoint.split(".")[0]
    return SECTIONS.get(endpoint) or SECTIONS.get(blueprint) or blueprint


@bp.app_context_processor
def navigation() -> dict:
    """The sidebar entries the signed-in user may open; areas not built yet show greyed out."""
    if not current_user.is_authenticated:
        return {"nav_items": []}
    user = current_user.user
    here = _section(request.endpoint)
    items = [
        {
            "url": url_for(endpoint) if endpoint in current_app.view_functions else None,
            "label": label,
            "icon": icon,
            "active": section == here,
        }
        for section, endpoint, label, icon, roles in NAVIGATION
        if not roles or user.has_role(*roles)
    ]
    names = sorted((r.name_en if is_english() else r.name) for r in user.roles)
    return {"nav_items": items, "user_roles": " · ".join(names)}


@bp.app_errorhandler(CSRFError)
def csrf_error(error: CSRFError):
    """A form without a valid token: usually a page left open past the session's life."""
    message = _("This page has expired or the form was not sent from the desk. Reload the page and try again.")
    return render_template("error.html", error=None, message=message, status=400), 400


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    app.register_blueprint(bp)
