"""time limits: the item clock, special procedures, supervision notices and tasks

Revision ID: 0002_time_limits
Revises: 0001_initial
Create Date: 2026-11-28 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0002_time_limits'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        # room on each page for HOT updates: timer claims and state saves rewrite rows in place
        op.execute('ALTER TABLE process_instance SET (fillfactor = 80)')
    with op.batch_alter_table('item_handling', schema=None) as batch_op:
        batch_op.add_column(sa.Column('limit_value', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('limit_unit', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('clock_started_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('warn_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('paused_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('pause_kind', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('paused_working_days', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('paused_seconds', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('warned_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_item_handling_due', ['due_at'], unique=False)

    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handling_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('audience', sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f('ix_human_task_handling_id'), ['handling_id'], unique=False)

    op.create_table('special_procedure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handling_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('expected_days', sa.Integer(), nullable=False),
    sa.Column('started_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_by', sa.Integer(), nullable=True),
    sa.Column('ended_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.Integer(), nullable=True),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('paused_days', sa.Integer(), nullable=True),
    sa.Column('paused_seconds', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['handling_id'], ['item_handling.id'], name=op.f('fk_special_procedure_handling_id_item_handling')),
    sa.ForeignKeyConstraint(['started_by'], ['user_account.id'], name=op.f('fk_special_procedure_started_by_user_account')),
    sa.ForeignKeyConstraint(['ended_by'], ['user_account.id'], name=op.f('fk_special_procedure_ended_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_special_procedure'))
    )
    with op.batch_alter_table('special_procedure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_special_procedure_handling_id'), ['handling_id'], unique=False)

    op.create_table('supervision_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('handling_id', sa.Integer(), nullable=True),
    sa.Column('project_code', sa.String(length=40), nullable=False),
    sa.Column('item_code', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_supervision_notice_unit_id_unit')),
    sa.ForeignKeyConstraint(['handling_id'], ['item_handling.id'], name=op.f('fk_supervision_notice_handling_id_item_handling')),
    sa.ForeignKeyConstraint(['acknowledged_by'], ['user_account.id'], name=op.f('fk_supervision_notice_acknowledged_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_notice'))
    )
    with op.batch_alter_table('supervision_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_notice_handling_id'), ['handling_id'], unique=False)
        batch_op.create_index('ix_supervision_notice_inbox', ['unit_id', 'acknowledged_at'], unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE process_instance RESET (fillfactor)')
    with op.batch_alter_table('supervision_notice', schema=None) as batch_op:
        batch_op.drop_index('ix_supervision_notice_inbox')
        batch_op.drop_index(batch_op.f('ix_supervision_notice_handling_id'))
    op.drop_table('supervision_notice')
    with op.batch_alter_table('special_procedure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_special_procedure_handling_id'))
    op.drop_table('special_procedure')
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_human_task_handling_id'))
        batch_op.drop_column('audience')
        batch_op.drop_column('handling_id')
    with op.batch_alter_table('item_handling', schema=None) as batch_op:
        batch_op.drop_index('ix_item_handling_due')
        for column in ('escalated_at', 'warned_at', 'paused_seconds', 'paused_working_days', 'pause_kind',
                       'paused_at', 'warn_at', 'clock_started_at', 'limit_unit', 'limit_value'):
            batch_op.drop_column(column)
