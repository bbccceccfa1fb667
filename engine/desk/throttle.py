"""Slowing password guessing down without letting a stranger lock the owner out.

A lock on the account (five wrong passwords, one minute, for everyone) let anybody
keep admin1 out of the desk forever. So failures are counted for the *client* (its
address) and the account together: five failures make that client wait a minute
before it may try that account again, and every further failure doubles the wait,
up to a quarter of an hour. The owner, signing in from their own machine, or already
signed in, does not notice. A client failing thirty times over any accounts (one
password tried on every account) waits the same way for all of them.

The counts live in the ``login_throttle`` table, not in a worker's memory, so every
gunicorn worker and every machine sharing the database sees the same; an hour
without a failure forgets them. A success forgets the client's failures for that
account only: the count over all accounts stays, or a guesser could clear it by
signing into an account of their own between guesses.

Functions take the session and never commit: the request commits the count, even
when it answers 401.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..clock import now
from ..errors import TooManyAttempts
from ..models import LoginThrottle

ACCOUNT, CLIENT = "account", "client"  # the two scopes a failure counts in
LIMITS = {ACCOUNT: 5, CLIENT: 30}  # failures before the client has to wait
FIRST_WAIT = timedelta(minutes=1)
LONGEST_WAIT = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)


def _keys(client: str, account: str) -> dict[str, tuple[str, str]]:
    return {ACCOUNT: (client[:64], account.strip().lower()[:200]), CLIENT: (client[:64], "")}


def check(session: Session, client: str, account: str) -> None:
    """Raise ``TooManyAttempts`` (with the wait) when ``client`` may not try ``account`` yet."""
    at = now()
    wanted = [and_(LoginThrottle.scope == scope, LoginThrottle.client == c, LoginThrottle.account == a)
              for scope, (c, a) in _keys(client, account).items()]
    until = session.scalars(select(LoginThrottle.blocked_until).where(or_(*wanted))).all()
    latest = max((u for u in until if u is not None and u > at), default=None)
    if latest is not None:
        raise _refusal(latest - at)


def failed(session: Session, client: str, account: str) -> None:
    """Count a failed sign-in; past a limit the client waits, longer each time."""
    at = now()
    for scope, (c, a) in _keys(client, account).items():
        row = _count(session, scope, c, a, at)
        over = row.failures - LIMITS[scope]
        if over >= 0:
            row.blocked_until = at + wait(over)
    session.execute(delete(LoginThrottle).where(LoginThrottle.last_failed_at < at - FORGET_AFTER))
    session.flush()


def succeeded(session: Session, client: str, account: str) -> None:
    """A right password forgets the client's failures for this account (not those over all accounts)."""
    c, a = _keys(client, account)[ACCOUNT]
    session.execute(delete(LoginThrottle).where(
        LoginThrottle.scope == ACCOUNT, LoginThrottle.client == c, LoginThrottle.account == a))


def wait(over: int) -> timedelta:
    """The wait after the limit's failure (``over`` = 0) and each one after: 1, 2, 4, 8, 15, 15 … minutes."""
    return min(FIRST_WAIT * 2 ** min(over, 10), LONGEST_WAIT)


def _count(session: Session, scope: str, client: str, account: str, at: datetime) -> LoginThrottle:
    """Add one failure in one statement (two workers counting at once both count), then read the row."""
    key = (LoginThrottle.scope == scope, LoginThrottle.client == client, LoginThrottle.account == account)
    recent = LoginThrottle.last_failed_at >= at - FORGET_AFTER
    add_one = (update(LoginThrottle).where(*key)
               .values(failures=case((recent, LoginThrottle.failures + 1), else_=1), last_failed_at=at)
               .execution_options(synchronize_session=False))
    if session.execute(add_one).rowcount == 0:
        try:
            with session.begin_nested():
                session.add(LoginThrottle(scope=scope, client=client, account=account, failures=1, last_failed_at=at))
        except IntegrityError:  # another worker counted this client's first failure meanwhile
            session.execute(add_one)
    return session.get(LoginThrottle, (scope, client, account), populate_existing=True)


def _refusal(left: timedelta) -> TooManyAttempts:
    seconds = max(1, math.ceil(left.total_seconds()))
    if seconds < 60:
        zh, en = f"{seconds} 秒", f"{seconds} seconds"
    else:
        minutes = math.ceil(seconds / 60)
        zh, en = f"{minutes} 分钟", f"{minutes} minute" + ("s" if minutes > 1 else "")
    return TooManyAttempts(f"登录失败次数过多，请 {zh}后再试 / too many failed sign-ins; try again in {en}",
                           retry_after=seconds)
