"""forecast jobs: a background forecast's progress and result in the database (any node answers a poll)

Revision ID: 0022_forecast_job
Revises: 0001_initial
Create Date: 2026-12-03 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0022_forecast_job'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('forecast_job',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('active', sa.Integer(), nullable=False),
    sa.Column('stages', sa.Text(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('runner', sa.String(length=120), nullable=False),
    sa.Column('started_by', sa.String(length=64), nullable=True),
    sa.Column('started_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forecast_job'))
    )
    with op.batch_alter_table('forecast_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forecast_job_version'), ['version'], unique=False)
        batch_op.create_index(batch_op.f('ix_forecast_job_ended_at'), ['ended_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('forecast_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forecast_job_ended_at'))
        batch_op.drop_index(batch_op.f('ix_forecast_job_version'))
    op.drop_table('forecast_job')
