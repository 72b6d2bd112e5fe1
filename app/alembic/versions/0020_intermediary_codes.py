"""intermediary codes: the XZFS and FWZT code tables of SPGL_ZJFWSXBLXXB for databases made before them

Revision ID: 0020_intermediary_codes
Revises: 0012_exchange
Create Date: 2026-12-02 16:30:00

A database created after this revision already has them (``0012_exchange``
inserts every seed table); this adds only the entries that are missing.
"""
from alembic import op
import sqlalchemy as sa


revision = '0020_intermediary_codes'
down_revision = '0012_exchange'
branch_labels = None
depends_on = None

TABLES = ("XZFS", "FWZT")


def upgrade() -> None:
    from app.services.exchange.codes import SEED
    codes = sa.table('exchange_code', sa.column('code_table', sa.String), sa.column('code', sa.String),
                     sa.column('name', sa.String), sa.column('active', sa.Boolean),
                     sa.column('is_default', sa.Boolean), sa.column('verified', sa.Boolean))
    bind = op.get_bind()
    present = {(t, c) for t, c in bind.execute(sa.select(codes.c.code_table, codes.c.code)
                                                .where(codes.c.code_table.in_(TABLES)))}
    missing = [{"code_table": table, "code": code, "name": name, "active": True, "is_default": default,
                "verified": verified}
               for table in TABLES for code, name, default, verified in SEED[table] if (table, code) not in present]
    if missing:
        op.bulk_insert(codes, missing)


def downgrade() -> None:
    pass  # the entries may have been edited since; they stay
