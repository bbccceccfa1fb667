"""Portal accounts: desk staff give a contact of the customer archive a sign-in for the portal."""

from engine.desk import accounts

from ..extensions import db
from . import bp, json_body, token_required


@bp.post("/portal-accounts")
@token_required("agent", "lead", "admin")
def create_portal_account():
    """``{email[, password]}`` → 201 ``{username, password}``: the password is shown this once."""
    body = json_body()
    password = body.get("password") if isinstance(body.get("password"), str) and body.get("password") else None
    user, password = accounts.add_account(db.session, str(body.get("email") or ""), password)
    db.session.commit()
    return {"username": user.username, "password": password}, 201
