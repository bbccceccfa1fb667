"""The declarative base every engine model sits on.

engine/ knows nothing of Flask: webforms makes ``db = SQLAlchemy(model_class=Base)``
and owns the transaction; the CLI and the timer worker do the same with a plain
``Session``. The naming convention gives Alembic stable constraint names.
"""

from datetime import datetime, timezone

from sqlalchemy import DateTime, Integer, MetaData, String, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database.

    SQLite has no time zones and hands back naive values; PostgreSQL keeps them.
    Values are normalised to UTC on the way in and tagged UTC on the way out, so
    comparisons in Python never mix naive and aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; engine times are UTC-aware")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    # One registry carries both, so Flask-SQLAlchemy can subclass this base.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def configure(engine) -> None:
    """Per-database settings the write path relies on.

    SQLite: WAL (readers never wait for the writer), a busy timeout, foreign
    keys, and ``BEGIN IMMEDIATE`` for every transaction, so a transaction holds
    the write lock from its first statement: two requests can never interleave
    on one instance, and no reader is upgraded into a deadlock. PostgreSQL: the
    write path takes ``SELECT … FOR UPDATE`` row locks; a transaction that only
    read ends with ``COMMIT`` (``_commit_reads``).
    """
    from sqlalchemy import event

    if engine.dialect.name == "postgresql":
        _commit_reads(engine)
        return
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# --------------------------------------------------------------------------- values the database would refuse

INTEGER_RANGE = {"Integer": 2**31, "SmallInteger": 2**15, "BigInteger": 2**63}


def max_length(column) -> int | None:
    """A text column's limit: ``String(n)``'s length, or ``info={"max_length": n}`` on a ``Text`` column."""
    return column.info.get("max_length") or getattr(column.type, "length", None)


def value_problem(column, value) -> str | None:
    """Why the database would refuse ``value`` for ``column`` (a 500 on PostgreSQL, silent on SQLite), or None."""
    if value is None:
        return None
    if isinstance(column.type, String):
        if not isinstance(value, str):
            return "应为文本 / must be text"
        if "\x00" in value:
            return "不能包含空字符（\\0） / must not contain NUL characters"
        limit = max_length(column)
        if limit and len(value) > limit:
            return f"过长：最多 {limit} 个字符 / too long: at most {limit} characters"
    elif isinstance(column.type, Integer) and isinstance(value, int) and not isinstance(value, bool):
        bound = next((b for name, b in INTEGER_RANGE.items() if type(column.type).__name__ == name), 2**31)
        if not -bound <= value < bound:
            return "数值超出范围 / the number is out of range"
    return None


_CHECKED: dict = {}  # mapper → its (key, column) pairs that value_problem can refuse (text and integers)


def _checked_columns(mapper) -> list:
    """Found once per mapper: a burst of timer wakes flushes thousands of rows, most columns dates and ids."""
    found = _CHECKED.get(mapper)
    if found is None:
        found = _CHECKED[mapper] = [(attr.key, attr.columns[0]) for attr in mapper.column_attrs
                                    if isinstance(attr.columns[0].type, (String, Integer))]
    return found


def check_values(session, _flush_context, _instances) -> None:
    """Refuse, before anything is written, a value its column cannot hold: 422 naming the field.

    Every way in (pages, API, mail, CLI, diagram scripts projecting into a ticket) ends
    in a flush, so this one check keeps PostgreSQL's refusals (NUL characters, values
    longer than a ``VARCHAR``, integers past ``INTEGER``) from becoming server errors,
    and gives SQLite, which would store them silently, the same limits.
    """
    from sqlalchemy import inspect

    from .errors import Invalid

    fields: dict[str, list[str]] = {}
    for obj in list(session.new) + list(session.dirty):
        state = inspect(obj)
        values, pending = state.dict, state.pending
        # a loaded row's changed attributes are the keys of its committed_state (their values as
        # loaded); asking each attribute for its history cost ~1,000 calls per task completion
        changed = state.committed_state
        for key, column in _checked_columns(state.mapper):
            if key not in values:
                continue  # not loaded (deferred) and not set: nothing to check
            if not pending and key not in changed:
                continue
            problem = value_problem(column, values[key])
            if problem:
                fields[key] = [problem]
    if fields:
        names = ", ".join(sorted(fields))
        chinese, _, english = next(iter(fields.values()))[0].partition(" / ")
        raise Invalid(f"{names}：{chinese} / {names}: {english}", fields=fields)


def _listen() -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    event.listen(Session, "before_flush", check_values)


_listen()


def reads_only(statement: str) -> bool:
    """Whether a statement only reads: ``SELECT``, ``SHOW``, or ``EXPLAIN`` without ``ANALYZE``."""
    words = statement.lstrip(" \n\t(").split(None, 1)
    first = words[0].upper() if words else ""
    if first == "EXPLAIN":
        return "ANALYZE" not in statement.upper()
    return first in ("SELECT", "SHOW")


def _commit_reads(engine) -> None:
    """End a PostgreSQL transaction that ran nothing but reads with COMMIT rather than ROLLBACK.

    psycopg prepares a statement on a connection once it has run there five times, so
    PostgreSQL stops parsing and planning it; but it forgets every prepared statement
    (``DEALLOCATE ALL``) on each ROLLBACK, in case the rollback undid a table they name.
    A request that only reads ends its transaction that way (its session closes without
    a commit), and between the desk's reads and writes no statement stayed prepared:
    PostgreSQL planned every statement again, nearly half of its CPU per completed task
    (docs/benchmarks.md, run 10). For a transaction that only read, COMMIT and ROLLBACK
    leave the same data, release the same locks and end the same ``SET LOCAL`` settings. A
    transaction that wrote anything, or failed, rolls back as before.
    """
    import psycopg
    from psycopg.pq import TransactionStatus
    from sqlalchemy import event

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.info["wrote"] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _note(connection, _cursor, statement, _parameters, _context, _executemany):
        if not connection.info.get("wrote", True) and not reads_only(statement):
            connection.info["wrote"] = True

    @event.listens_for(engine, "rollback")
    def _rollback(connection):
        if connection.closed or connection.invalidated or connection.info.get("wrote", True):
            return
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection.info.transaction_status == TransactionStatus.INTRANS:  # not a failed one
            try:
                dbapi_connection.commit()  # the rollback that follows finds no transaction: nothing forgotten
            except psycopg.Error:  # a broken connection: the rollback says so as before
                pass
