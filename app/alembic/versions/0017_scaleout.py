"""scaleout: the holiday table in the database, cache epochs every node watches, room for HOT updates

On PostgreSQL ``process_instance`` keeps 30% of each page free: a timer claim or
release and most saves change no indexed column, and with room on the page the
row's new version stays on it without new index entries (a HOT update).

Revision ID: 0017_scaleout
Revises: 0001_initial
Create Date: 2026-12-02 16:10:00
"""
from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0017_scaleout'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

UTC = app.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('calendar_year',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('entry', sa.Text(), nullable=False),
        sa.Column('updated_at', UTC, nullable=False),
        sa.Column('updated_by', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_year'))
    )
    op.create_table('cache_epoch',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('epoch', sa.BigInteger(), nullable=False),
        sa.Column('changed_at', UTC, nullable=True),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_cache_epoch'))
    )
    op.bulk_insert(sa.table('cache_epoch', sa.column('name', sa.String), sa.column('epoch', sa.BigInteger)),
                   [{'name': name, 'epoch': 0} for name in ('calendar', 'routing', 'tokens')])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE process_instance SET (fillfactor = 70)')
        op.execute('ALTER TABLE human_task SET (fillfactor = 80)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE process_instance RESET (fillfactor)')
        op.execute('ALTER TABLE human_task RESET (fillfactor)')
    op.drop_table('cache_epoch')
    op.drop_table('calendar_year')
