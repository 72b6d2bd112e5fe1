"""catalogue: decided stage items, commitments, material gaps, level-2/3 codes, admin routes

Revision ID: 0005_catalogue
Revises: 0001_initial
Create Date: 2026-11-28 12:00:00
"""
from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0005_catalogue'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

UTC = app.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('engineering_code', sa.String(length=40), nullable=True))
    with op.batch_alter_table('item_handling', schema=None) as batch_op:
        batch_op.add_column(sa.Column('engineering_code', sa.String(length=40), nullable=True))
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('engineering_code', sa.String(length=40), nullable=True))
    with op.batch_alter_table('route_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('set_by_admin', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.create_table('stage_plan',
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('catalog_version', sa.String(length=20), nullable=False),
    sa.Column('facts', sa.Text(), nullable=False),
    sa.Column('decided_at', UTC, nullable=False),
    sa.Column('accepted_at', UTC, nullable=True),
    sa.Column('gaps_open', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_stage_plan_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_stage_plan_project_id_project')),
    sa.PrimaryKeyConstraint('instance_id', name=op.f('pk_stage_plan'))
    )
    with op.batch_alter_table('stage_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stage_plan_project_id'), ['project_id'], unique=False)

    op.create_table('stage_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=40), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_stage_item_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_stage_item_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_item'))
    )
    with op.batch_alter_table('stage_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stage_item_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stage_item_project_id'), ['project_id'], unique=False)

    op.create_table('commitment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=40), nullable=False),
    sa.Column('handling_id', sa.Integer(), nullable=False),
    sa.Column('verification_instance_id', sa.Integer(), nullable=True),
    sa.Column('signed_at', UTC, nullable=False),
    sa.Column('verify_by', UTC, nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('finished_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_commitment_project_id_project')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_commitment_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['handling_id'], ['item_handling.id'], name=op.f('fk_commitment_handling_id_item_handling')),
    sa.ForeignKeyConstraint(['verification_instance_id'], ['process_instance.id'], name=op.f('fk_commitment_verification_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commitment'))
    )
    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commitment_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_commitment_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_commitment_verification_instance_id'), ['verification_instance_id'], unique=False)

    op.create_table('material_gap',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=40), nullable=False),
    sa.Column('material', sa.String(length=200), nullable=False),
    sa.Column('supply_by', sa.Date(), nullable=False),
    sa.Column('supplied_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_material_gap_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_material_gap_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_material_gap'))
    )
    with op.batch_alter_table('material_gap', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_material_gap_instance_id'), ['instance_id'], unique=False)

    op.create_table('engineering_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('parent_code', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_engineering_code_project_id_project')),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_engineering_code_created_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engineering_code')),
    sa.UniqueConstraint('code', name=op.f('uq_engineering_code_code'))
    )
    with op.batch_alter_table('engineering_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_engineering_code_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_engineering_code_parent_code'), ['parent_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('engineering_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_engineering_code_parent_code'))
        batch_op.drop_index(batch_op.f('ix_engineering_code_project_id'))
    op.drop_table('engineering_code')
    with op.batch_alter_table('material_gap', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_material_gap_instance_id'))
    op.drop_table('material_gap')
    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commitment_verification_instance_id'))
        batch_op.drop_index(batch_op.f('ix_commitment_instance_id'))
        batch_op.drop_index(batch_op.f('ix_commitment_project_id'))
    op.drop_table('commitment')
    with op.batch_alter_table('stage_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stage_item_project_id'))
        batch_op.drop_index(batch_op.f('ix_stage_item_instance_id'))
    op.drop_table('stage_item')
    with op.batch_alter_table('stage_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stage_plan_project_id'))
    op.drop_table('stage_plan')
    with op.batch_alter_table('route_entry', schema=None) as batch_op:
        batch_op.drop_column('set_by_admin')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_column('engineering_code')
    with op.batch_alter_table('item_handling', schema=None) as batch_op:
        batch_op.drop_column('engineering_code')
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_column('engineering_code')
