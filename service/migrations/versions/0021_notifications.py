"""E-mail notifications: comments whose authors asked to hear of replies, readers who
unsubscribed (by keyed recipient, never the address), and one notice per reply

Revision ID: 0021
Revises: 0023
Create Date: 2026-12-08 01:27:53.498457

"""

from alembic import op
import sqlalchemy as sa

import service.db  # noqa: F401 - custom column types


# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "email_unsubscribes",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("recipient_key", sa.String(length=100), nullable=False),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_email_unsubscribes_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("site_id", "recipient_key", name=op.f("pk_email_unsubscribes")),
    )
    op.create_table(
        "reply_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("reply_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("recipient_key", sa.String(length=100), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued", "sent", "skipped", "failed", name="reply_notification_status", native_enum=False
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=False),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", service.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["comments.id"],
            name=op.f("fk_reply_notifications_parent_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reply_id"],
            ["comments.id"],
            name=op.f("fk_reply_notifications_reply_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_reply_notifications_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_notifications")),
        sa.UniqueConstraint("reply_id", name=op.f("uq_reply_notifications_reply_id")),
    )
    with op.batch_alter_table("reply_notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reply_notifications_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index("ix_reply_notifications_queue", ["status", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reply_notifications_sent_at"), ["sent_at"], unique=False)

    op.create_table(
        "reply_subscriptions",
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("root_id", sa.Integer(), nullable=False),
        sa.Column("recipient_key", sa.String(length=100), nullable=False),
        sa.Column("created_at", service.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_reply_subscriptions_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_reply_subscriptions_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("comment_id", name=op.f("pk_reply_subscriptions")),
    )
    with op.batch_alter_table("reply_subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reply_subscriptions_created_at"), ["created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("reply_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reply_subscriptions_created_at"))

    op.drop_table("reply_subscriptions")
    with op.batch_alter_table("reply_notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reply_notifications_sent_at"))
        batch_op.drop_index("ix_reply_notifications_queue")
        batch_op.drop_index(batch_op.f("ix_reply_notifications_parent_id"))

    op.drop_table("reply_notifications")
    op.drop_table("email_unsubscribes")
