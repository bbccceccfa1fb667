"""Bearer tokens: exchanged for a password, listed and revoked by their owner; they expire."""

from flask import current_app, g

from engine.desk import users
from engine.errors import Forbidden, Invalid, TooManyAttempts

from .. import clients
from ..extensions import db
from . import bp, json_body, token_required
from .schemas import TokenInfo, TokenRequest, load


@bp.post("/tokens")
def create_token():
    """Exchange a username and password for a bearer token; 429 with Retry-After while the client must wait."""
    body = load(TokenRequest(), json_body())
    longest = current_app.config["DESK_API_TOKEN_DAYS"]
    days = body["expires_in_days"] or longest
    if days > longest:  # refused before the password is checked: a wrong request costs no attempt
        raise Invalid("请求有错误 / the request has errors",
                      fields={"expires_in_days": [f"最多 {longest} 天 / at most {longest} days"]})
    try:
        user = users.authenticate(db.session, body["username"], body["password"], client=clients.address())
    except TooManyAttempts as exc:
        db.session.commit()
        return exc.to_dict(), 429, {"Retry-After": str(exc.retry_after)}
    except Forbidden as exc:
        db.session.commit()  # keep the count of failures that slows guessing down
        return {"error": "unauthorized", "message": exc.message}, 401
    token, row = users.issue_token(db.session, user, days=days)
    answer = {"token": token, "username": user.username, "roles": sorted(user.role_codes),
              "expires_at": row.expires_at.isoformat()}
    db.session.commit()
    return answer, 201


@bp.get("/tokens")
@token_required()
def list_tokens():
    """The caller's tokens that still work, the newest first, with when each was last used."""
    rows = users.tokens_of(db.session, g.user)
    return {"items": [TokenInfo().dump({"id": r.id, "created_at": r.created_at, "expires_at": r.expires_at,
                                        "last_used_at": r.last_used_at, "current": r.id == g.token_id})
                      for r in rows]}


@bp.delete("/tokens/<int:token_id>")
@token_required()
def revoke_token(token_id: int):
    """Revoke one of the caller's tokens (the one in use too: it is a sign-out)."""
    users.revoke_token(db.session, g.user, token_id)
    db.session.commit()
    return "", 204


@bp.get("/me")
@token_required()
def me():
    return {"username": g.user.username, "display_name": g.user.display_name, "roles": sorted(g.user.role_codes)}
