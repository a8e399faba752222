"""campaigns: two-stage draw and multistage design

Revision ID: i9stages0009
Revises: h8remind0008
Create Date: 2026-12-01 00:00:00

Frame rows keep both stages' inclusion probabilities and populations (clusters in the
stratum, rows in the cluster); campaign weights the second-stage PSU and fpc.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i9stages0009'
down_revision = 'h8remind0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('frame_row') as batch:
        batch.add_column(sa.Column('stage1_probability', sa.Float(), nullable=True))
        batch.add_column(sa.Column('stage2_probability', sa.Float(), nullable=True))
        batch.add_column(sa.Column('stage1_population', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('stage2_population', sa.Integer(), nullable=True))
    with op.batch_alter_table('campaign_weight') as batch:
        batch.add_column(sa.Column('psu2', sa.String(length=160), nullable=True))
        batch.add_column(sa.Column('fpc2', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('campaign_weight') as batch:
        batch.drop_column('fpc2')
        batch.drop_column('psu2')
    with op.batch_alter_table('frame_row') as batch:
        batch.drop_column('stage2_population')
        batch.drop_column('stage1_population')
        batch.drop_column('stage2_probability')
        batch.drop_column('stage1_probability')
