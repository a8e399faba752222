"""campaigns: paper and interviewer entry (who keyed which slip), optional double entry

Revision ID: f6entry000006
Revises: e5j0bs000005
Create Date: 2026-12-01 00:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f6entry000006'
down_revision = 'e5j0bs000005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('double_entry', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    op.create_table(
        'campaign_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('frame_row_id', sa.Integer(), nullable=True),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('client_submission_id', sa.String(length=64), nullable=False),
        sa.Column('answers', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('response_submission_id', sa.String(length=64), nullable=True),
        sa.Column('entered_by_id', sa.Integer(), nullable=True),
        sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reconciled_by_id', sa.Integer(), nullable=True),
        sa.Column('reconciled_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("channel IN ('field', 'paper')", name=op.f('ck_campaign_entry_channel')),
        sa.CheckConstraint(
            "status IN ('submitted', 'pending', 'matched', 'discrepancy', 'reconciled')",
            name=op.f('ck_campaign_entry_status')),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'],
                                name=op.f('fk_campaign_entry_campaign_id_campaign'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['frame_row_id'], ['frame_row.id'],
                                name=op.f('fk_campaign_entry_frame_row_id_frame_row'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'],
                                name=op.f('fk_campaign_entry_unit_id_unit')),
        sa.ForeignKeyConstraint(['entered_by_id'], ['user_account.id'],
                                name=op.f('fk_campaign_entry_entered_by_id_user_account'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['reconciled_by_id'], ['user_account.id'],
                                name=op.f('fk_campaign_entry_reconciled_by_id_user_account'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_entry')),
        sa.UniqueConstraint('client_submission_id',
                            name='uq_campaign_entry_client_submission_id'),
    )
    with op.batch_alter_table('campaign_entry', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_entry_campaign_user',
                              ['campaign_id', 'entered_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_entry_frame_row_id'), ['frame_row_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('campaign_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_entry_frame_row_id'))
        batch_op.drop_index('ix_campaign_entry_campaign_user')
    op.drop_table('campaign_entry')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('double_entry')
