"""DSA notice and action: notices of illegal content (Art. 16) with the moderators' decision, and
statements of reasons (Art. 17), one per restriction (a moderation event, or a ban or suspension)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 23:27:40.611489

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # noqa: F401 - used by rendered JSONB columns

import service.db  # noqa: F401 - custom column types


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=40), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=80), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('reporter_name', sa.String(length=100), nullable=False),
    sa.Column('reporter_email', sa.String(length=320), nullable=False),
    sa.Column('reporter_user_id', sa.String(length=200), nullable=True),
    sa.Column('network_key', sa.String(length=64), nullable=True),
    sa.Column('good_faith', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('open', 'decided', name='notice_status', native_enum=False), nullable=False),
    sa.Column('decision', sa.Enum('illegal', 'not_illegal', 'site_rules', name='notice_decision', native_enum=False), nullable=True),
    sa.Column('restricted', sa.Boolean(), nullable=True),
    sa.Column('legal_ground', sa.String(length=500), nullable=False),
    sa.Column('decision_explanation', sa.String(length=2000), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_notices_comment_id_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_notices_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices')),
    sa.UniqueConstraint('public_id', name=op.f('uq_notices_public_id'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notices_comment_id'), ['comment_id'], unique=False)
        batch_op.create_index('ix_notices_queue', ['site_id', 'status', 'id'], unique=False)

    op.create_table('statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=40), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('moderation_event_id', sa.Integer(), nullable=True),
    sa.Column('notice_id', sa.Integer(), nullable=True),
    sa.Column('author_key', sa.String(length=128), nullable=True),
    sa.Column('restriction', sa.Enum('rejected', 'deleted', 'banned', 'suspended', 'held', name='statement_restriction', native_enum=False), nullable=False),
    sa.Column('ground', sa.Enum('illegal', 'site_rules', name='statement_ground', native_enum=False), nullable=False),
    sa.Column('category', sa.String(length=80), nullable=False),
    sa.Column('ground_reference', sa.String(length=500), nullable=False),
    sa.Column('explanation', sa.String(length=2000), nullable=False),
    sa.Column('facts', sa.Text(), nullable=False),
    sa.Column('automated_detection', sa.Boolean(), nullable=False),
    sa.Column('automated_decision', sa.Enum('fully', 'partially', 'not_automated', name='statement_automation', native_enum=False), nullable=False),
    sa.Column('source', sa.Enum('notice', 'voluntary', name='statement_source', native_enum=False), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=False),
    sa.Column('content_date', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('end_date', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_statements_comment_id_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['moderation_event_id'], ['moderation_events.id'], name=op.f('fk_statements_moderation_event_id_moderation_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_statements_notice_id_notices'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_statements_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statements')),
    sa.UniqueConstraint('moderation_event_id', name=op.f('uq_statements_moderation_event_id')),
    sa.UniqueConstraint('public_id', name=op.f('uq_statements_public_id'))
    )
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.create_index('ix_statements_author', ['site_id', 'author_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_statements_comment_id'), ['comment_id'], unique=False)
        batch_op.create_index('ix_statements_site', ['site_id', 'id'], unique=False)

    # Restrictions made before this upgrade get no statement: the issue-statements job starts
    # after the newest moderation event, so a running site's authors are not sent old ones.
    op.execute(
        "INSERT INTO scheduled_jobs (name, last_processed, total_processed, position) "
        "SELECT 'issue-statements', 0, 0, COALESCE(MAX(id), 0) FROM moderation_events"
    )



def downgrade():
    op.execute("DELETE FROM scheduled_jobs WHERE name = 'issue-statements'")
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.drop_index('ix_statements_site')
        batch_op.drop_index(batch_op.f('ix_statements_comment_id'))
        batch_op.drop_index('ix_statements_author')

    op.drop_table('statements')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index('ix_notices_queue')
        batch_op.drop_index(batch_op.f('ix_notices_comment_id'))

    op.drop_table('notices')
