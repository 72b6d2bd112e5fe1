"""oversight: bookkeeping of generated history runs; indexes for the supervision dashboard

Revision ID: 0011_oversight
Revises: 0001_initial
Create Date: 2026-12-02 07:40:00
"""
from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0011_oversight'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

UTC = app.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('history_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('seed', sa.Integer(), nullable=False),
        sa.Column('projects', sa.Integer(), nullable=False),
        sa.Column('enterprises', sa.Integer(), nullable=False),
        sa.Column('workers', sa.Integer(), nullable=False),
        sa.Column('begins_at', UTC, nullable=False),
        sa.Column('ends_at', UTC, nullable=False),
        sa.Column('profile', sa.String(length=40), nullable=False),
        sa.Column('started_at', UTC, nullable=False),
        sa.Column('finished_at', UTC, nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_history_run'))
    )
    op.create_table('history_worker',
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('worker', sa.Integer(), nullable=False),
        sa.Column('next_index', sa.Integer(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['run_id'], ['history_run.id'], name=op.f('fk_history_worker_run_id_history_run'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('run_id', 'worker', name=op.f('pk_history_worker'))
    )


def downgrade() -> None:
    op.drop_table('history_worker')
    op.drop_table('history_run')
