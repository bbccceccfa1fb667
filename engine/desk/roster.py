"""The duty roster (值班表): shifts, who is on duty, swaps (顶岗) and out-of-hours routing.

The desk is staffed in business hours (08:00–17:30 summer, 08:00–18:00 winter) and
by a rota outside them (7×24). ``DEFAULT_SHIFTS`` are the usual three: 白班 from
08:00 to the season's closing time, 夜班 from closing time to 08:00 the next
morning, and 全天 for a 24-hour rota; admins may add others.

* ``on_duty(at)`` — who is on a shift that covers the instant ``at`` (an overnight
  shift belongs to the day it starts);
* a swap (顶岗) is asked for by the person rostered (or a lead) and takes effect
  only when a lead approves it; the assignment keeps who was rostered;
* ``route`` — called by the write path after each step: a ticket accepted out of
  hours records who was on duty (``ticket.on_duty``), and the desk's new
  group tasks go to the on-duty person while it is out of hours, so an alarm at
  03:00 lands in one inbox instead of a group nobody reads at night.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import now
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..models import DutyAssignment, DutyShift, DutySwap, HumanTask, Ticket, User
from . import calendars
from .users import by_username

LOCAL_TZ = calendars.SHANGHAI
DESK_ROLES = ("agent",)  # whose group tasks the on-duty person takes out of hours
DEFAULT_SHIFTS = (
    ("day", "白班", "08:00", "close", 1),
    ("night", "夜班", "close", "08:00", 2),
    ("full", "全天", "00:00", "00:00", 3),
)


# --- shifts ---------------------------------------------------------------------------------


def ensure_shifts(session: Session) -> list[DutyShift]:
    """The shifts, creating the default three the first time."""
    rows = list(session.scalars(select(DutyShift).order_by(DutyShift.position, DutyShift.code)))
    if rows:
        return rows
    for code, name, starts, ends, position in DEFAULT_SHIFTS:
        session.add(DutyShift(code=code, name=name, starts=starts, ends=ends, position=position))
    session.flush()
    return list(session.scalars(select(DutyShift).order_by(DutyShift.position, DutyShift.code)))


def _clock_time(text: str, day: date) -> time:
    if text == "close":
        return calendars.closing_time(day)
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def interval(shift: DutyShift, day: date) -> tuple[datetime, datetime]:
    """The UTC instants a shift on ``day`` runs between; one that ends at or before its start ends next day."""
    start = datetime.combine(day, _clock_time(shift.starts, day), tzinfo=LOCAL_TZ)
    end = datetime.combine(day, _clock_time(shift.ends, day), tzinfo=LOCAL_TZ)
    if end <= start:
        end = datetime.combine(day + timedelta(days=1), _clock_time(shift.ends, day + timedelta(days=1)), tzinfo=LOCAL_TZ)
    return start, end


# --- the roster -----------------------------------------------------------------------------


def assignments(session: Session, first: date, last: date) -> list[DutyAssignment]:
    return list(session.scalars(
        select(DutyAssignment).where(DutyAssignment.day >= first, DutyAssignment.day <= last)
        .order_by(DutyAssignment.day, DutyAssignment.shift_code, DutyAssignment.username)
    ))


def assign(session: Session, day: date, shift_code: str, username: str, *, user: User) -> DutyAssignment:
    """Put someone on a shift (leads and admins)."""
    if not user.has_role("lead", "admin"):
        raise Forbidden("只有组长或管理员可以排班 / only leads and admins edit the roster")
    if session.get(DutyShift, shift_code) is None:
        raise Invalid(f"未知班次 / unknown shift {shift_code}", fields={"shift": ["未知 / unknown"]})
    person = by_username(session, (username or "").strip())
    if person is None or not person.active:
        raise Invalid(f"用户 {username} 不存在 / no user {username}", fields={"username": ["不存在 / no such user"]})
    exists = session.scalar(select(DutyAssignment.id).where(
        DutyAssignment.day == day, DutyAssignment.shift_code == shift_code, DutyAssignment.username == person.username))
    if exists is not None:
        raise Conflict(f"{person.username} 已在该班次 / already on this shift")
    row = DutyAssignment(day=day, shift_code=shift_code, username=person.username, created_by=user.username)
    session.add(row)
    session.flush()
    return row


def unassign(session: Session, assignment_id: int, *, user: User) -> None:
    if not user.has_role("lead", "admin"):
        raise Forbidden("只有组长或管理员可以排班 / only leads and admins edit the roster")
    row = session.get(DutyAssignment, assignment_id)
    if row is None:
        raise NotFound(f"排班 {assignment_id} 不存在 / no assignment {assignment_id}")
    session.delete(row)
    session.flush()


def on_duty(session: Session, at: datetime | None = None) -> list[str]:
    """Who is on a shift covering ``at`` (now by default), rostered order."""
    at = at or now()
    local_day = at.astimezone(LOCAL_TZ).date()
    people = []
    for row in assignments(session, local_day - timedelta(days=1), local_day):
        start, end = interval(row.shift, row.day)
        if start <= at < end:
            people.append(row.username)
    return list(dict.fromkeys(people))


# --- swaps (顶岗) ---------------------------------------------------------------------------


def request_swap(session: Session, assignment_id: int, to_user: str, reason: str, *, user: User) -> DutySwap:
    """Ask that ``to_user`` takes this shift: the person rostered, or a lead, asks; a lead decides."""
    row = session.get(DutyAssignment, assignment_id)
    if row is None:
        raise NotFound(f"排班 {assignment_id} 不存在 / no assignment {assignment_id}")
    if row.username != user.username and not user.has_role("lead", "admin"):
        raise Forbidden("只能为自己的班次申请顶岗 / only for your own shift")
    other = by_username(session, (to_user or "").strip())
    if other is None or not other.active:
        raise Invalid(f"用户 {to_user} 不存在 / no user {to_user}", fields={"to_user": ["不存在 / no such user"]})
    if other.username == row.username:
        raise Invalid("顶岗人不能是本人 / pick someone else", fields={"to_user": ["不能是本人 / someone else"]})
    swap = DutySwap(assignment_id=row.id, from_user=row.username, to_user=other.username, reason=(reason or "").strip(),
                    requested_by=user.username, requested_at=now())
    session.add(swap)
    session.flush()
    return swap


def pending_swaps(session: Session) -> list[DutySwap]:
    return list(session.scalars(select(DutySwap).where(DutySwap.status == "requested").order_by(DutySwap.id)))


def decide_swap(session: Session, swap_id: int, approve: bool, *, user: User) -> DutySwap:
    """A lead approves (the substitute takes the shift) or refuses; decided once."""
    if not user.has_role("lead", "admin"):
        raise Forbidden("只有组长可以审批顶岗 / only a lead approves a swap")
    swap = session.get(DutySwap, swap_id)
    if swap is None:
        raise NotFound(f"顶岗申请 {swap_id} 不存在 / no swap {swap_id}")
    if swap.status != "requested":
        raise Conflict(f"该申请已由 {swap.decided_by} 处理 / already decided by {swap.decided_by}", by=swap.decided_by,
                       at=swap.decided_at)
    swap.status = "approved" if approve else "refused"
    swap.decided_by, swap.decided_at = user.username, now()
    if approve:
        row = swap.assignment
        clash = session.scalar(select(DutyAssignment.id).where(
            DutyAssignment.day == row.day, DutyAssignment.shift_code == row.shift_code,
            DutyAssignment.username == swap.to_user))
        if clash is not None:
            raise Conflict(f"{swap.to_user} 已在该班次 / already on this shift")
        row.rostered = row.rostered or row.username
        row.username = swap.to_user
    session.flush()
    return swap


# --- routing out-of-hours tickets -------------------------------------------------------------


def route(session: Session, ticket: Ticket, ready_tasks: list[HumanTask], *, first: bool, since: datetime) -> None:
    """On the write path, before the projection: record who was on duty; out of hours, give new desk tasks to them."""
    if first and ticket.on_duty is None:
        people = on_duty(session, ticket.accepted_at)
        ticket.on_duty = ",".join(people)[:200] or None
    at = now()
    if calendars.is_working_time(at, "business"):
        return
    people = on_duty(session, at)
    if not people:
        return
    for row in ready_tasks:
        if row.assignee or row.created_at < since or not set(DESK_ROLES).intersection(row.roles or []):
            continue
        for username in people:
            person = by_username(session, username)
            if person is not None and person.role_codes.intersection(row.roles or []):
                row.assignee = username
                break
