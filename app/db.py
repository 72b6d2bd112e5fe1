"""Database engines and sessions: SQLite in WAL mode by default, PostgreSQL by URL.

On SQLite a transaction that will write starts with ``BEGIN IMMEDIATE`` (taking
the database's write lock up front, so two writers never deadlock on an
upgrade); on PostgreSQL instance rows are locked with ``SELECT ... FOR UPDATE``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

WRITE = {"sqlite_begin": "IMMEDIATE"}


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


def is_sqlite(session_or_engine) -> bool:
    """True when the session or engine talks to SQLite."""
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "sqlite"


def make_session_factory(engine: Engine) -> sessionmaker:
    """A session factory whose objects stay usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


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
