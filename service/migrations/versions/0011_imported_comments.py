"""imported comments: the source id of each comment an import wrote, one per site, format and
source id, so importing a file again adds nothing

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 23:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('imported_comments',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.String(length=200), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('parent_source_id', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_imported_comments_comment_id_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_imported_comments_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('site_id', 'source', 'source_id', name=op.f('pk_imported_comments'))
    )
    with op.batch_alter_table('imported_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_imported_comments_comment_id'), ['comment_id'], unique=False)


def downgrade():
    with op.batch_alter_table('imported_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_imported_comments_comment_id'))
    op.drop_table('imported_comments')
