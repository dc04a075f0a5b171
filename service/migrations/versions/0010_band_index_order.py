"""near-duplicate bands indexed with created_at: the lookup takes each band's newest copies
straight from its index, whatever the planner's statistics

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 23:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        for band in range(4):
            batch_op.drop_index(f'ix_comments_text_band{band}')
            batch_op.create_index(
                f'ix_comments_text_band{band}', ['site_id', f'text_band{band}', 'created_at'], unique=False
            )


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        for band in range(4):
            batch_op.drop_index(f'ix_comments_text_band{band}')
            batch_op.create_index(f'ix_comments_text_band{band}', ['site_id', f'text_band{band}'], unique=False)
