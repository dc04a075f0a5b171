"""author counts: each author's approved, rejected and held comments, kept by every transition

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 06:25:00

"""
from alembic import op
import sqlalchemy as sa

import service.db  # noqa: F401 - custom column types

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Every author with a comment gets a row, counted from the comments as they stand.
BACKFILL = [
    """
    INSERT INTO authors (site_id, author_key, standing, note, updated_by, updated_at)
    SELECT c.site_id, c.author_key, 'regular', '', '', MIN(c.created_at)
    FROM comments c
    WHERE c.author_key IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM authors a WHERE a.site_id = c.site_id AND a.author_key = c.author_key)
    GROUP BY c.site_id, c.author_key
    """,
    """
    UPDATE authors SET
        approved_count = (SELECT COUNT(*) FROM comments c WHERE c.site_id = authors.site_id
                          AND c.author_key = authors.author_key AND c.status = 'approved'),
        rejected_count = (SELECT COUNT(*) FROM comments c WHERE c.site_id = authors.site_id
                          AND c.author_key = authors.author_key AND c.status = 'rejected'),
        held_count = (SELECT COUNT(*) FROM comments c WHERE c.site_id = authors.site_id
                      AND c.author_key = authors.author_key AND c.status = 'held'),
        last_rejected_at = (SELECT MAX(c.updated_at) FROM comments c WHERE c.site_id = authors.site_id
                            AND c.author_key = authors.author_key AND c.status = 'rejected')
    """,
]


def upgrade():
    with op.batch_alter_table('authors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('rejected_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('held_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_rejected_at', service.db.UTCDateTime(timezone=True), nullable=True))
    for statement in BACKFILL:
        op.execute(statement)


def downgrade():
    with op.batch_alter_table('authors', schema=None) as batch_op:
        batch_op.drop_column('last_rejected_at')
        batch_op.drop_column('held_count')
        batch_op.drop_column('rejected_count')
        batch_op.drop_column('approved_count')
