"""results: a heartbeat on snapshots being computed, so interrupted ones are resumed

Revision ID: e5j0bs000005
Revises: d4resu17s004
Create Date: 2026-12-01 00:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5j0bs000005'
down_revision = 'd4resu17s004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('result_snapshot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('result_snapshot', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
