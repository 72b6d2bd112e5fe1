"""handling working days: each finished item handling keeps its working days; index on the decision time

Revision ID: 0019_handling_working_days
Revises: 0001_initial
Create Date: 2026-12-02 16:00:00

Rows finished before this revision keep NULL until ``flask recount-working-days``
(the dashboard counts those on the calendar as it reads them).
"""
from alembic import op
import sqlalchemy as sa


revision = '0019_handling_working_days'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('item_handling', schema=None) as batch_op:
        batch_op.add_column(sa.Column('working_days', sa.Integer(), nullable=True))
        batch_op.create_index('ix_item_handling_finished', ['finished_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('item_handling', schema=None) as batch_op:
        batch_op.drop_index('ix_item_handling_finished')
        batch_op.drop_column('working_days')
