"""campaigns: close — the weight and design of each response, the weighting report and
the frozen snapshot of a closed campaign

Revision ID: g7close000007
Revises: f6entry000006
Create Date: 2026-12-01 00:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'g7close000007'
down_revision = 'f6entry000006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weighting_report', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('snapshot_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_campaign_snapshot_id_result_snapshot',
                                    'result_snapshot', ['snapshot_id'], ['id'],
                                    ondelete='SET NULL')
    op.create_table(
        'campaign_weight',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=False),
        sa.Column('frame_row_id', sa.Integer(), nullable=True),
        sa.Column('stratum', sa.String(length=160), nullable=False),
        sa.Column('cell', sa.String(length=160), nullable=False),
        sa.Column('psu', sa.String(length=160), nullable=False),
        sa.Column('fpc', sa.Integer(), nullable=True),
        sa.Column('base', sa.Float(), nullable=False),
        sa.Column('adjusted', sa.Float(), nullable=False),
        sa.Column('final', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['response_id'], ['response.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['frame_row_id'], ['frame_row.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('response_id', name='uq_campaign_weight_response'),
    )
    op.create_index('ix_campaign_weight_campaign_id', 'campaign_weight', ['campaign_id'])


def downgrade():
    op.drop_index('ix_campaign_weight_campaign_id', table_name='campaign_weight')
    op.drop_table('campaign_weight')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_constraint('fk_campaign_snapshot_id_result_snapshot', type_='foreignkey')
        batch_op.drop_column('snapshot_id')
        batch_op.drop_column('weighting_report')
