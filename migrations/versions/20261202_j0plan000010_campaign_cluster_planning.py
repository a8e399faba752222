"""campaigns: planning assumptions of two-stage designs

Revision ID: j0plan000010
Revises: i9stages0009
Create Date: 2026-12-02 00:00:00

The design page of a unit → cluster → person campaign prices the clustering: the planned
take per cluster, the assumed intra-cluster correlation (0.05 unless changed) and, until a
frame gives the clusters, the mean cluster size the department expects.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'j0plan000010'
down_revision = 'i9stages0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign') as batch:
        batch.add_column(sa.Column('planned_take', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('planned_icc', sa.Float(), server_default='0.05',
                                   nullable=False))
        batch.add_column(sa.Column('planned_cluster_size', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('campaign') as batch:
        batch.drop_column('planned_cluster_size')
        batch.drop_column('planned_icc')
        batch.drop_column('planned_take')
