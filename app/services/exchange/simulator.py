"""A small national side: checks the rows waiting in the front database and answers SJSCZT/SBYY.

It marks a valid row 3 (accepted) or 2 (check failed) with the reason in SBYY,
by simple rules that follow what the national system is known to refuse: a
required field missing, a code outside the national code list (the seeded
lists: a code an administrator added locally is unknown there), a division
outside Hainan, and a child row whose parent row is not accepted.  Tests and
the demo run the exchange loop against it; it never runs in production.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import and_, select, update

from . import frontdb
from .codes import SEED
from .tables import BY_NAME, TABLES
from .values import BEIJING

NATIONAL_CODES = {table: {code for code, *_ in entries} for table, entries in SEED.items()}


def _reasons(spec, row, conn) -> list[str]:
    found = []
    for f in spec.fields:
        value = row[f.name]
        if value is None or value == "":
            if f.required:
                found.append(f"{f.name} 为必填项")
        elif f.codes and str(value) not in NATIONAL_CODES.get(f.codes, set()):
            found.append(f"{f.name} 代码 {value} 不在国家标准代码表中")
    if not str(row["XZQHDM"]).startswith("46"):
        found.append(f"XZQHDM {row['XZQHDM']} 不属于本省")
    if spec.parent:
        parent = frontdb.table(spec.parent)
        match = and_(parent.c.SJYXBS == 1, parent.c.SJSCZT == 3,
                     *[parent.c[name] == row[name] for name in spec.link])
        if conn.execute(select(parent.c.LSH).where(match).limit(1)).first() is None:
            found.append(f"上级数据（{BY_NAME[spec.parent].label}）未通过校验或不存在")
    return found


def check(front: frontdb.FrontDatabase, now: dt.datetime | None = None) -> Counter:
    """Answer every valid row not yet checked, table by table in the load order; return the counts."""
    answered: Counter = Counter()
    stamp = (now or dt.datetime.now(dt.UTC)).astimezone(BEIJING).replace(tzinfo=None, microsecond=0)
    with front.begin() as conn:
        for spec in TABLES:
            table = frontdb.table(spec.name)
            rows = conn.execute(select(table).where(table.c.SJSCZT == 0, table.c.SJYXBS == 1)
                                .order_by(table.c.SCSJ, table.c.LSH)).mappings().all()
            for row in rows:
                reasons = _reasons(spec, row, conn)
                status = 2 if reasons else 3
                conn.execute(update(table).where(table.c.LSH == row["LSH"]).values(
                    SJSCZT=status, SBYY="；".join(reasons) or None, GXSJ=stamp))
                answered["rejected" if reasons else "accepted"] += 1
    return answered
