"""notify: in-app notifications, the delivery outbox, users' contact addresses

Revision ID: 0010_notifications
Revises: 0001_initial
Create Date: 2026-12-02 07:30:00
"""
from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0010_notifications'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

UTC = app.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('notification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('params', sa.Text(), nullable=False),
        sa.Column('project_code', sa.String(length=40), nullable=True),
        sa.Column('task_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('read_at', UTC, nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_user_id_user_account'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['task_id'], ['human_task.id'], name=op.f('fk_notification_task_id_human_task'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    op.create_index('ix_notification_user_unread', 'notification', ['user_id', 'read_at'], unique=False)
    op.create_table('outbox_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('notification_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('address', sa.String(length=200), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', UTC, nullable=False),
        sa.Column('claim_owner', sa.String(length=80), nullable=True),
        sa.Column('claim_expires', UTC, nullable=True),
        sa.Column('sent_at', UTC, nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['notification_id'], ['notification.id'], name=op.f('fk_outbox_message_notification_id_notification'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message'))
    )
    op.create_index('ix_outbox_message_due', 'outbox_message', ['status', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_outbox_message_notification_id'), 'outbox_message', ['notification_id'], unique=False)
    op.create_table('user_contact',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=200), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('email_on', sa.Boolean(), nullable=False),
        sa.Column('sms_on', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_user_contact_user_id_user_account'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_user_contact'))
    )


def downgrade() -> None:
    op.drop_table('user_contact')
    op.drop_index(op.f('ix_outbox_message_notification_id'), table_name='outbox_message')
    op.drop_index('ix_outbox_message_due', table_name='outbox_message')
    op.drop_table('outbox_message')
    op.drop_index('ix_notification_user_unread', table_name='notification')
    op.drop_table('notification')
