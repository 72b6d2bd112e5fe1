"""portal: uploaded materials and failed login attempts

Revision ID: 0003_portal
Revises: 0001_initial
Create Date: 2026-11-28 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0003_portal'
down_revision = '0001_initial'
branch_labels = None
depends_on = '0002_time_limits'  # the inbox index covers human_task.audience


def upgrade() -> None:
    op.create_table('material',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_material_project_id_project')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['user_account.id'], name=op.f('fk_material_uploaded_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_material')),
    sa.UniqueConstraint('project_id', 'name', name=op.f('uq_material_project_id_name'))
    )
    with op.batch_alter_table('material', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_material_project_id'), ['project_id'], unique=False)

    op.create_table('login_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure'))
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index('ix_login_failure_key', ['username', 'address', 'at'], unique=False)

    # the workbench inbox: a unit's open tasks of the officer's lanes, oldest deadline first;
    # it covers the inbox's count and page of ids
    op.create_index('ix_human_task_unit_lane', 'human_task', ['unit_id', 'lane_role', 'status', 'due_at', 'audience'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_human_task_unit_lane', table_name='human_task')
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failure_key')
    op.drop_table('login_failure')
    with op.batch_alter_table('material', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_material_project_id'))
    op.drop_table('material')
