"""author self-service: the hash of the author token returned on posting, the edit count and
time of a comment, and the texts it had before its author edited it

Revision ID: 0020
Revises: 0022
Create Date: 2026-12-08 01:30:00

"""
from alembic import op
import sqlalchemy as sa

import service.db  # noqa: F401 - custom column types


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('edit_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('edited_at', service.db.UTCDateTime(timezone=True), nullable=True))
    op.create_table('comment_edits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('replaced_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('comment_edits', schema=None) as batch_op:
        batch_op.create_index('ix_comment_edits_comment', ['comment_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('comment_edits', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_edits_comment')
    op.drop_table('comment_edits')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('edited_at')
        batch_op.drop_column('edit_count')
        batch_op.drop_column('author_token_hash')
