"""results: publication and public page

Revision ID: d4resu17s004
Revises: c3campa1gn03
Create Date: 2026-12-01 00:00:00

Who published a snapshot and when (the public page and the API show published snapshots
only), and the read permission of a unit's API key for the read-only results API.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4resu17s004'
down_revision = 'c3campa1gn03'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('result_snapshot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('published_by', sa.String(length=64), nullable=True))
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('read_results', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_column('read_results')
    with op.batch_alter_table('result_snapshot', schema=None) as batch_op:
        batch_op.drop_column('published_by')
        batch_op.drop_column('published_at')
