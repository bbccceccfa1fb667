from flask import g

from engine.desk import users
from engine.errors import Forbidden, TooManyAttempts

from .. import clients
from ..extensions import db
from . import bp, json_body, token_required
from .schemas import TokenRequest, load


@bp.post("/tokens")
def create_token():
    """Exchange a username and password for a bearer token; 429 with Retry-After while the client must wait."""
    body = load(TokenRequest(), json_body())
    try:
        user = users.authenticate(db.session, body["username"], body["password"], client=clients.address())
    except TooManyAttempts as exc:
        db.session.commit()
        return exc.to_dict(), 429, {"Retry-After": str(exc.retry_after)}
    except Forbidden as exc:
        db.session.commit()  # keep the count of failures that slows guessing down
        return {"error": "unauthorized", "message": exc.message}, 401
    token = users.issue_token(db.session, user)
    db.session.commit()
    return {"token": token, "username": user.username, "roles": sorted(user.role_codes)}, 201


@bp.get("/me")
@token_required()
def me():
    return {"username": g.user.username, "display_name": g.user.display_name, "roles": sorted(g.user.role_codes)}
