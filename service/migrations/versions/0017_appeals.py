"""DSA appeals (Art. 20): an author's appeal against a restriction's statement of reasons, one per
statement, with the decision a second moderator takes on it

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 00:30:00

"""
from alembic import op
import sqlalchemy as sa

import service.db  # noqa: F401 - custom column types


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('original_actor', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('open', 'decided', name='appeal_status', native_enum=False), nullable=False),
    sa.Column('outcome', sa.Enum('upheld', 'reversed', name='appeal_outcome', native_enum=False), nullable=True),
    sa.Column('reason', sa.String(length=2000), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reversal_event_id', sa.Integer(), nullable=True),
    sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reversal_event_id'], ['moderation_events.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('statement_id')
    )
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_index('ix_appeals_queue', ['site_id', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_comment_id'), ['comment_id'], unique=False)


def downgrade():
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeals_comment_id'))
        batch_op.drop_index('ix_appeals_queue')
    op.drop_table('appeals')
