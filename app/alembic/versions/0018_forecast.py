"""forecast: the model learnt from history

Revision ID: 0018_forecast
Revises: 0001_initial
Create Date: 2026-12-02 16:00:00
"""
from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0018_forecast'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('forecast_model',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('built_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('since', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('until', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('instances', sa.Integer(), nullable=False),
    sa.Column('tasks', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forecast_model'))
    )


def downgrade() -> None:
    op.drop_table('forecast_model')
