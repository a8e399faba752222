"""token sampler: systematic 1-in-k selection state per unit for one-time tokens

Revision ID: 1417e25439bd
Revises: 6d8780b0c68b
Create Date: 2026-11-23 15:11:22.085576

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1417e25439bd'
down_revision = '6d8780b0c68b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('token_sampler',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('k', sa.Integer(), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('counter', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('k >= 1', name=op.f('ck_token_sampler_k_positive')),
    sa.CheckConstraint('start >= 0 AND start < k', name=op.f('ck_token_sampler_start_range')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_token_sampler_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_token_sampler')),
    sa.UniqueConstraint('unit_id', name='uq_token_sampler_unit_id')
    )


def downgrade():
    op.drop_table('token_sampler')
