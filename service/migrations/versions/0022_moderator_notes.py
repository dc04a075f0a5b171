"""Moderators' notes on a comment: who wrote what, when; kept (an erasure blanks the words)

Revision ID: 0022
Revises: 0019
Create Date: 2026-12-08 01:30:00

"""
from alembic import op
import sqlalchemy as sa

import service.db  # noqa: F401 - custom column types


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('moderator_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('text', sa.String(length=2000), nullable=False),
    sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('moderator_notes', schema=None) as batch_op:
        batch_op.create_index('ix_moderator_notes_comment', ['comment_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('moderator_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_moderator_notes_comment')
    op.drop_table('moderator_notes')
