"""Database engines and sessions: SQLite in WAL mode by default, PostgreSQL by URL.

On SQLite a transaction that will write starts with ``BEGIN IMMEDIATE`` (taking
the database's write lock up front, so two writers never deadlock on an
upgrade); on PostgreSQL instance rows are locked with ``SELECT ... FOR UPDATE``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

WRITE = {"sqlite_begin": "IMMEDIATE"}
T = TypeVar("T")


def make_engine(url: str, prepared_statements: bool = True, pool_size: int = 10, **kwargs) -> Engine:
    """Create an engine with the platform's connection settings.

    ``prepared_statements=False`` (``HN_DB_PREPARED_STATEMENTS=0``) keeps psycopg from preparing
    statements on the server: needed behind PgBouncer in transaction pooling before 1.21 (or without
    ``max_prepared_statements``), where consecutive transactions may run on different server
    connections.  Nothing else the platform does outlives a transaction on its connection.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    if not prepared_statements:
        kwargs.setdefault("connect_args", {})["prepare_threshold"] = None
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", pool_size)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_pre_ping", False)  # one round trip less per transaction
        kwargs.setdefault("pool_recycle", 1800)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


_URL_TEXT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _bind(session_or_engine):
    return session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine


def url_key(session_or_engine) -> str:
    """The database URL of a session's (or an engine's) bind as text: the key of per-database caches.

    Rendering a URL costs more than a cache lookup does, and a completion asks several times.
    """
    bind = _bind(session_or_engine)
    text = _URL_TEXT.get(bind)
    if text is None:
        text = _URL_TEXT[bind] = str(bind.url)
    return text


def is_sqlite(session_or_engine) -> bool:
    """True when the session or engine talks to SQLite."""
    bind = _bind(session_or_engine)
    return bind.dialect.name == "sqlite"


def make_session_factory(engine: Engine) -> sessionmaker:
    """A session factory whose objects stay usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


#: ``Session.info`` key of the lookups remembered for the current transaction (``remembered``).
MEMO = "hn_memo"


def remembered(session: Session, key: tuple, compute: Callable[[], T]) -> T:
    """``compute()``'s answer for ``key``, computed once per transaction of ``session``.

    For lookups a unit of work repeats whose answer it does not change itself (the accounts
    a notification goes to, say): the memo ends with the transaction, committed or rolled
    back, so the next one reads the database afresh.
    """
    memo = session.info.setdefault(MEMO, {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def forget_remembered(session: Session, prefix: str | None = None) -> None:
    """Drop the transaction's memo (only the keys that start with ``prefix``, if given)."""
    memo = session.info.get(MEMO)
    if memo:
        if prefix is None:
            memo.clear()
        else:
            for key in [k for k in memo if k and k[0] == prefix]:
                del memo[key]


@event.listens_for(Session, "after_transaction_end")
def _end_memo(session: Session, transaction) -> None:
    # the outermost transaction or a savepoint (what it rolled back is never remembered); not the
    # inner transaction every flush opens
    if transaction.parent is None or transaction.nested:
        session.info.pop(MEMO, None)


@contextmanager
def transaction(factory: sessionmaker, write: bool = True) -> Iterator[Session]:
    """``with transaction(factory) as s:`` one unit of work, committed at the end."""
    with factory() as session:
        if write:
            session.connection(execution_options=WRITE)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
