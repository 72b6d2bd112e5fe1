"""planning generation (plan zones, proposals) and intermediary services (firms, qualifications, services)

Revision ID: 0013_planning_intermediary
Revises: 0001_initial
Create Date: 2026-12-02 07:45:00
"""
from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0013_planning_intermediary'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

UTC = app.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('plan_zone',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('division_code', sa.String(length=12), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('geometry', sa.Text(), nullable=False),
        sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('updated_by', sa.Integer(), nullable=True),
        sa.Column('updated_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['division_code'], ['division.code'], name=op.f('fk_plan_zone_division_code_division')),
        sa.ForeignKeyConstraint(['updated_by'], ['user_account.id'], name=op.f('fk_plan_zone_updated_by_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_zone')),
    )
    op.create_index(op.f('ix_plan_zone_division_code'), 'plan_zone', ['division_code'], unique=False)
    op.create_table('planning_proposal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=True),
        sa.Column('lead_role', sa.String(length=30), nullable=False),
        sa.Column('proposed_by', sa.Integer(), nullable=True),
        sa.Column('site', sa.Text(), nullable=False),
        sa.Column('area_m2', sa.Float(), nullable=False),
        sa.Column('measured_area_m2', sa.Float(), nullable=False),
        sa.Column('findings', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('rounds', sa.Integer(), nullable=False),
        sa.Column('conditions', sa.Text(), nullable=False),
        sa.Column('required_items', sa.Text(), nullable=False),
        sa.Column('settled_items', sa.Text(), nullable=False),
        sa.Column('regional_assessment', sa.Boolean(), nullable=False),
        sa.Column('proposed_at', UTC, nullable=False),
        sa.Column('generated_at', UTC, nullable=True),
        sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_planning_proposal_project_id_project')),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_planning_proposal_instance_id_process_instance')),
        sa.ForeignKeyConstraint(['proposed_by'], ['user_account.id'], name=op.f('fk_planning_proposal_proposed_by_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_planning_proposal')),
        sa.UniqueConstraint('project_id', name=op.f('uq_planning_proposal_project_id')),
    )
    op.create_index(op.f('ix_planning_proposal_instance_id'), 'planning_proposal', ['instance_id'], unique=False)
    op.create_table('intermediary_firm',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('division_code', sa.String(length=12), nullable=False),
        sa.Column('contact', sa.String(length=200), nullable=False),
        sa.Column('introduction', sa.Text(), nullable=False),
        sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('registered_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_intermediary_firm_enterprise_id_enterprise')),
        sa.ForeignKeyConstraint(['division_code'], ['division.code'], name=op.f('fk_intermediary_firm_division_code_division')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_intermediary_firm')),
        sa.UniqueConstraint('enterprise_id', name=op.f('uq_intermediary_firm_enterprise_id')),
    )
    op.create_table('intermediary_qualification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('firm_id', sa.Integer(), nullable=False),
        sa.Column('service', sa.String(length=30), nullable=False),
        sa.Column('grade', sa.String(length=30), nullable=False),
        sa.Column('certificate_no', sa.String(length=60), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=False),
        sa.Column('items', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['firm_id'], ['intermediary_firm.id'], name=op.f('fk_intermediary_qualification_firm_id_intermediary_firm'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_intermediary_qualification')),
    )
    op.create_index(op.f('ix_intermediary_qualification_firm_id'), 'intermediary_qualification', ['firm_id'], unique=False)
    op.create_table('intermediary_service',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('service', sa.String(length=30), nullable=False),
        sa.Column('firm_id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=True),
        sa.Column('method', sa.String(length=10), nullable=False),
        sa.Column('candidates', sa.Text(), nullable=False),
        sa.Column('draw_seed', sa.String(length=64), nullable=True),
        sa.Column('selected_by', sa.Integer(), nullable=True),
        sa.Column('selected_at', UTC, nullable=False),
        sa.Column('committed_days', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('accepted_at', UTC, nullable=True),
        sa.Column('warn_at', UTC, nullable=True),
        sa.Column('due_at', UTC, nullable=True),
        sa.Column('delivered_at', UTC, nullable=True),
        sa.Column('finished_at', UTC, nullable=True),
        sa.Column('refusal', sa.Text(), nullable=False),
        sa.Column('report_material_id', sa.Integer(), nullable=True),
        sa.Column('conclusion', sa.Text(), nullable=False),
        sa.Column('rating', sa.Integer(), nullable=True),
        sa.Column('rating_comment', sa.Text(), nullable=False),
        sa.Column('rated_at', UTC, nullable=True),
        sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_intermediary_service_project_id_project')),
        sa.ForeignKeyConstraint(['firm_id'], ['intermediary_firm.id'], name=op.f('fk_intermediary_service_firm_id_intermediary_firm')),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_intermediary_service_instance_id_process_instance')),
        sa.ForeignKeyConstraint(['selected_by'], ['user_account.id'], name=op.f('fk_intermediary_service_selected_by_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_intermediary_service')),
    )
    op.create_index(op.f('ix_intermediary_service_project_id'), 'intermediary_service', ['project_id'], unique=False)
    op.create_index(op.f('ix_intermediary_service_instance_id'), 'intermediary_service', ['instance_id'], unique=False)
    op.create_index('ix_intermediary_service_firm', 'intermediary_service', ['firm_id', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_intermediary_service_firm', table_name='intermediary_service')
    op.drop_index(op.f('ix_intermediary_service_instance_id'), table_name='intermediary_service')
    op.drop_index(op.f('ix_intermediary_service_project_id'), table_name='intermediary_service')
    op.drop_table('intermediary_service')
    op.drop_index(op.f('ix_intermediary_qualification_firm_id'), table_name='intermediary_qualification')
    op.drop_table('intermediary_qualification')
    op.drop_table('intermediary_firm')
    op.drop_index(op.f('ix_planning_proposal_instance_id'), table_name='planning_proposal')
    op.drop_table('planning_proposal')
    op.drop_index(op.f('ix_plan_zone_division_code'), table_name='plan_zone')
    op.drop_table('plan_zone')
