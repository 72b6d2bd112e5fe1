"""The front database (前置库): the SPGL tables with their bookkeeping fields, behind ``HN_SPGL_URL``.

It is another database (or PostgreSQL schema) than the platform's, so it has
its own engine and its own transactions; the platform only ever inserts rows
and updates their validity (SJYXBS/SJWXYY), never deletes.  The national side
writes SJSCZT and SBYY.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Column, Date, DateTime, Float, Index, Integer, MetaData, String, Table
from sqlalchemy.engine import Connection, Engine

from ...db import make_engine
from .tables import TABLES

FRONT = MetaData()
BOOKKEEPING = ("LSH", "DFSJZJ", "XZQHDM", "SJYXBS", "SJWXYY", "SJSCZT", "SBYY", "SCSJ", "GXSJ")
KINDS = {"str": None, "int": Integer, "num": Float, "date": Date, "time": DateTime}


def _columns(spec) -> list[Column]:
    columns = [Column("LSH", String(40), primary_key=True), Column("DFSJZJ", String(120), nullable=False),
               Column("XZQHDM", String(12), nullable=False), Column("SJYXBS", Integer, nullable=False),
               Column("SJWXYY", String(500)), Column("SJSCZT", Integer, nullable=False), Column("SBYY", String(2000)),
               Column("SCSJ", DateTime, nullable=False), Column("GXSJ", DateTime)]
    for f in spec.fields:
        kind = KINDS[f.kind]
        columns.append(Column(f.name, kind if kind is not None else String(f.length)))
    return columns


SQL_TABLES: dict[str, Table] = {}
for _spec in TABLES:
    SQL_TABLES[_spec.name] = Table(_spec.name, FRONT, *_columns(_spec),
                                   Index(f"IX_{_spec.name}_SJSCZT", "SJSCZT", "SJYXBS"),
                                   Index(f"IX_{_spec.name}_DFSJZJ", "DFSJZJ"))


class FrontDatabase:
    """The front database: an engine and the SPGL tables in it."""

    def __init__(self, url: str, engine: Engine | None = None):
        self.url = url
        self.engine = engine or make_engine(url)
        self._ready = False

    def ensure(self) -> None:
        """Create the SPGL tables that are missing (the national standard's; never dropped)."""
        if not self._ready:
            FRONT.create_all(self.engine, checkfirst=True)
            self._ready = True

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction on the front database."""
        self.ensure()
        with self.engine.begin() as connection:
            yield connection

    def dispose(self) -> None:
        """Close the pool."""
        self.engine.dispose()


def table(name: str) -> Table:
    """The SQLAlchemy table of an SPGL table name."""
    return SQL_TABLES[name]
