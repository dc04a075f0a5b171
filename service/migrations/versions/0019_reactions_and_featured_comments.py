"""Readers' reactions (one like per reader per comment, counted on the comment) and editors'
featured comments, with the indexes of the thread's top sort and of an article's featured comments

Revision ID: 0019
Revises: 0021
Create Date: 2026-12-08 01:08:36.712875

"""

from alembic import op
import sqlalchemy as sa

import service.db  # noqa: F401 - custom column types


# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("reactor_key", sa.String(length=128), nullable=False),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_reactions_comment_id_comments"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_reactions_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reactions")),
        sa.UniqueConstraint("comment_id", "reactor_key", name=op.f("uq_reactions_comment_id")),
    )
    with op.batch_alter_table("reactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reactions_site_id"), ["site_id"], unique=False)

    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reaction_count", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("featured_at", service.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_comments_featured",
            ["article_id", "featured_at"],
            unique=False,
            postgresql_where=sa.text("featured_at IS NOT NULL"),
            sqlite_where=sa.text("featured_at IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_comments_thread_top", ["article_id", "status", "depth", "reaction_count", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index("ix_comments_thread_top")
        batch_op.drop_index(
            "ix_comments_featured",
            postgresql_where=sa.text("featured_at IS NOT NULL"),
            sqlite_where=sa.text("featured_at IS NOT NULL"),
        )
        batch_op.drop_column("featured_at")
        batch_op.drop_column("reaction_count")

    with op.batch_alter_table("reactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reactions_site_id"))

    op.drop_table("reactions")
