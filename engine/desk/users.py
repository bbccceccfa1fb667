"""Staff accounts, roles, passwords and API tokens.

Passwords are hashed with scrypt from the standard library (no Flask needed here).
Failed logins slow down the client that made them, for that account
(``throttle``); nobody can lock the owner out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session, joinedload

from ..clock import now
from ..errors import Forbidden, Invalid, NotFound
from ..models import ApiToken, Role, User
from . import throttle

ROLES = [
    ("agent", "服务台", "Service desk agent"),
    ("lead", "组长", "Desk lead"),
    ("pm", "项目经理", "Project manager"),
    # one group per project (rules/routing.dmn names the project's group); a PM sees their projects' tickets
    ("pm_infra", "基础设施运维项目经理", "PM, infrastructure operations project"),
    ("pm_app", "应用与终端运维项目经理", "PM, applications and desktops project"),
    ("engineer", "运维工程师", "Operations engineer"),
    ("tech_support", "技术支持", "Technical support"),
    ("process_owner", "流程管理员", "Process owner"),
    ("admin", "系统管理员", "Administrator"),
    ("manager", "服务台经理", "Desk manager"),  # issue 10: the top of the escalation chain
]

DEMO_USERS = [
    ("agent1", "王小服", ["agent"]),
    ("lead1", "李组长", ["lead", "agent"]),
    ("pm1", "张经理", ["pm", "pm_infra"]),
    ("pm2", "孙经理", ["pm", "pm_app"]),
    ("eng1", "刘工", ["engineer"]),
    ("eng2", "陈工", ["engineer"]),
    ("ts1", "赵技术", ["tech_support"]),
    ("owner1", "周流程", ["process_owner"]),
    ("admin1", "管理员", ["admin"]),
    ("mgr1", "吴主管", ["manager"]),
]

# scrypt cost; tests lower it through ``set_hash_cost`` to keep fixtures fast.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def set_hash_cost(n: int) -> None:
    _SCRYPT["n"] = n


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    n, r, p = _SCRYPT["n"], _SCRYPT["r"], _SCRYPT["p"]
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_password(stored: str, password: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def ensure_roles(session: Session) -> None:
    for code, name, name_en in ROLES:
        if session.get(Role, code) is None:
            session.add(Role(code=code, name=name, name_en=name_en))
    session.flush()


def by_username(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).first()


def get_user(session: Session, username: str) -> User:
    user = by_username(session, username)
    if user is None:
        raise NotFound(f"用户 {username} 不存在 / no user {username}")
    return user


def add_user(
    session: Session, username: str, password: str, roles: list[str], *, display_name: str = "", email: str = ""
) -> User:
    if not username or not password:
        raise Invalid("用户名和密码必填 / username and password are required")
    if by_username(session, username) is not None:
        raise Invalid(f"用户 {username} 已存在 / user {username} exists", fields={"username": ["已存在 / exists"]})
    unknown = [r for r in roles if session.get(Role, r) is None]
    if unknown:
        raise Invalid(f"未知角色 / unknown roles: {', '.join(unknown)}", fields={"roles": unknown})
    user = User(
        username=username,
        display_name=display_name or username,
        email=email,
        password_hash=hash_password(password),
        roles=[session.get(Role, r) for r in roles],
    )
    session.add(user)
    session.flush()
    return user


def add_demo_users(session: Session) -> list[User]:
    ensure_roles(session)
    created = []
    for username, display, roles in DEMO_USERS:
        if by_username(session, username) is None:
            created.append(add_user(session, username, "demo", roles, display_name=display, email=f"{username}@desk.local"))
    return created


def authenticate(session: Session, username: str, password: str, *, client: str) -> User:
    """The user, or Forbidden with a message that does not say which part was wrong.

    ``client`` is the caller's address: failures slow down that client for that
    account (``throttle``), never the account for everyone. An unknown user costs
    the same scrypt as a wrong password, so the time taken does not tell them apart.
    """
    username, password = username or "", password or ""
    throttle.check(session, client, username)
    user = by_username(session, username)
    if user is None or not user.active:
        check_password(_dummy_hash(), password)  # the same cost as a wrong password
        right = False
    else:
        right = check_password(user.password_hash, password)
    if not right:
        throttle.failed(session, client, username)
        raise Forbidden("用户名或密码错误 / wrong username or password")
    throttle.succeeded(session, client, username)
    return user


def set_password(session: Session, user: User, password: str) -> int:
    """A new password; every session the user has open ends and every API token they hold stops working.

    A password is changed because the old one may be known to someone else, who could
    have exchanged it for a token (``POST /api/tokens``) that would outlive it.
    Returns how many tokens were revoked.
    """
    if not password:
        raise Invalid("密码必填 / a password is required", fields={"password": ["必填 / required"]})
    user.password_hash = hash_password(password)
    end_sessions(user)
    revoked = revoke_tokens(session, user)
    session.flush()
    return revoked


def end_sessions(user: User) -> None:
    """Sign the user out everywhere: the session cookies carry the old nonce, which no longer matches."""
    user.session_nonce = secrets.token_hex(16)


TOKEN_DAYS = 30  # an API token's life when the app sets none (DESK_API_TOKEN_DAYS)
TOKEN_TOUCH = timedelta(minutes=10)  # ``last_used_at`` is kept to this precision: one write per token per 10 minutes


def issue_token(session: Session, user: User, *, days: int = TOKEN_DAYS) -> tuple[str, ApiToken]:
    """A new bearer token that works for ``days``, and its row; the user's expired tokens are deleted.

    Only the token's SHA-256 is stored: the token itself is shown once, to whoever asked.
    """
    at = now()
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.expires_at <= at))
    token = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=hashlib.sha256(token.encode()).hexdigest(), created_at=at,
                   expires_at=at + timedelta(days=days))
    session.add(row)
    session.flush()
    return token, row


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens that still work, the newest first."""
    return list(session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.expires_at > now())
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ))


def revoke_tokens(session: Session, user: User) -> int:
    """Delete every token of the user (a leaked one, a new password); returns how many."""
    return session.execute(delete(ApiToken).where(ApiToken.user_id == user.id)).rowcount


def revoke_token(session: Session, user: User, token_id: int) -> None:
    """Delete one of the user's own tokens (another user's is reported as not found, like a missing one)."""
    deleted = session.execute(
        delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)).rowcount
    if not deleted:
        raise NotFound(f"没有令牌 {token_id} / no token {token_id}")


def with_roles(session: Session, user_id: int) -> User | None:
    """A user by id with their roles, in one statement (a signed-in page reads both on every request)."""
    return session.get(User, user_id, options=[joinedload(User.roles)])


# Built once: it runs before every API call, and building the statement and its cache key
# per call took 16–27 % of the lookup's CPU (two alternated rounds of 500 lookups).
_USER_FOR_TOKEN = (
    select(User, ApiToken.id, ApiToken.expires_at, ApiToken.last_used_at)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("digest"), User.active.is_(True))
    .options(joinedload(User.roles))
)


def user_for_token(session: Session, token: str) -> tuple[User, int, bool]:
    """The token's user with their roles, the token's id, and whether its use was written now.

    One statement (it runs before every API call), and an ``UPDATE`` of ``last_used_at``
    when the one stored is ten minutes old or more: the caller commits that at once,
    as a read (``GET``) never commits and a refused call rolls back. An expired token is
    refused with its own message, so a script knows to ask for a new one.
    """
    digest = hashlib.sha256((token or "").encode()).hexdigest()
    found = session.execute(_USER_FOR_TOKEN, {"digest": digest}).unique().first()
    if found is None:
        raise Forbidden("无效的令牌 / invalid token")
    user, token_id, expires_at, last_used_at = found
    at = now()
    if expires_at <= at:
        raise Forbidden("令牌已过期，请重新获取 / the token has expired; ask for a new one")
    touched = last_used_at is None or at - last_used_at >= TOKEN_TOUCH
    if touched:
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=at))
    return user, token_id, touched


def users_with_role(session: Session, role: str) -> list[User]:
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.username))
    return [u for u in users if u.has_role(role)]


_DUMMY: dict[tuple[int, int, int], str] = {}


def _dummy_hash() -> str:
    """A hash at today's cost, checked for unknown users (made once per cost setting)."""
    cost = (_SCRYPT["n"], _SCRYPT["r"], _SCRYPT["p"])
    if cost not in _DUMMY:
        _DUMMY[cost] = hash_password(secrets.token_urlsafe(16))
    return _DUMMY[cost]
