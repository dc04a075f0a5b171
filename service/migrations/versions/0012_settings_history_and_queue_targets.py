"""settings history (an immutable event per change of a policy, SSO secret, webhook endpoint or
key; PostgreSQL refuses UPDATE and DELETE of it) and queue target misses (one per comment and
queue, so queue.target_missed is sent once)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 23:45:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # noqa: F401 - used by rendered JSONB columns
from sqlalchemy.dialects import postgresql

import service.db


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('settings_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('before', JSON, nullable=True),
    sa.Column('after', JSON, nullable=True),
    sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settings_events'))
    )
    with op.batch_alter_table('settings_events', schema=None) as batch_op:
        batch_op.create_index('ix_settings_events_site', ['site_id', 'id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        for statement in service.db.SETTINGS_EVENTS_GUARD:
            op.execute(statement)

    op.create_table('queue_target_misses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('queue', sa.String(length=16), nullable=False),
    sa.Column('waiting_since', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('target_minutes', sa.Double(), nullable=False),
    sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_queue_target_misses_comment_id_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_queue_target_misses_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_target_misses')),
    sa.UniqueConstraint('comment_id', 'queue', name=op.f('uq_queue_target_misses_comment_id')),
    )
    with op.batch_alter_table('queue_target_misses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queue_target_misses_site_id'), ['site_id'], unique=False)


def downgrade():
    with op.batch_alter_table('queue_target_misses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queue_target_misses_site_id'))
    op.drop_table('queue_target_misses')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS settings_events_immutable ON settings_events')
        op.execute('DROP FUNCTION IF EXISTS settings_events_immutable()')
    with op.batch_alter_table('settings_events', schema=None) as batch_op:
        batch_op.drop_index('ix_settings_events_site')
    op.drop_table('settings_events')
