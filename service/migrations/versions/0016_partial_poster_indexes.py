"""poster indexes hold only the rows their lookups read: an author's comments (author_key set)
and anonymous comments by network; the author index by status goes (the queue's author filter
reads the author's comments through the first)

Every index entry costs each POST a write and its WAL; the anonymous half of the comments had
an author entry for nothing, the signed-in half a network entry for nothing.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28 23:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_author')
        batch_op.drop_index('ix_comments_author_recent')
        batch_op.drop_index('ix_comments_network_recent')
        batch_op.create_index(
            'ix_comments_author_recent', ['site_id', 'author_key', 'created_at'], unique=False,
            postgresql_where=sa.text('author_key IS NOT NULL'), sqlite_where=sa.text('author_key IS NOT NULL'),
        )
        batch_op.create_index(
            'ix_comments_network_recent', ['site_id', 'network_key', 'created_at'], unique=False,
            postgresql_where=sa.text('author_key IS NULL'), sqlite_where=sa.text('author_key IS NULL'),
        )


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_network_recent')
        batch_op.drop_index('ix_comments_author_recent')
        batch_op.create_index('ix_comments_network_recent', ['site_id', 'network_key', 'created_at'], unique=False)
        batch_op.create_index('ix_comments_author_recent', ['site_id', 'author_key', 'created_at'], unique=False)
        batch_op.create_index('ix_comments_author', ['site_id', 'author_key', 'status'], unique=False)
