"""campaigns: re-weighting a closed campaign — the history of its weighting runs (run 1
the close, then each re-weighting: who, when, options, report, snapshot); closed
campaigns get their close as run 1

Revision ID: k1rewt000011
Revises: j0plan000010
Create Date: 2026-12-02 00:00:00
"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'k1rewt000011'
down_revision = 'j0plan000010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'campaign_weighting',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('run', sa.Integer(), nullable=False),
        sa.Column('options', sa.JSON(), nullable=False),
        sa.Column('report', sa.JSON(), nullable=True),
        sa.Column('snapshot_id', sa.Integer(), nullable=True),
        sa.Column('weighted_by', sa.String(length=64), nullable=False),
        sa.Column('weighted_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['snapshot_id'], ['result_snapshot.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('campaign_id', 'run', name='uq_campaign_weighting_run'),
    )
    _backfill()


def _backfill():
    """Each campaign already closed: its close becomes run 1 (options read back from its
    weighting report; who and when from its snapshot, else the campaign's creation)."""
    bind = op.get_bind()
    campaign = sa.table('campaign', sa.column('id', sa.Integer),
                        sa.column('weighting_report', sa.JSON),
                        sa.column('snapshot_id', sa.Integer),
                        sa.column('created_at', sa.DateTime(timezone=True)))
    snapshot = sa.table('result_snapshot', sa.column('id', sa.Integer),
                        sa.column('created_by', sa.String),
                        sa.column('created_at', sa.DateTime(timezone=True)))
    weighting = sa.table('campaign_weighting', sa.column('campaign_id', sa.Integer),
                         sa.column('run', sa.Integer), sa.column('options', sa.JSON),
                         sa.column('report', sa.JSON), sa.column('snapshot_id', sa.Integer),
                         sa.column('weighted_by', sa.String),
                         sa.column('weighted_at', sa.DateTime(timezone=True)))
    rows = bind.execute(
        sa.select(campaign.c.id, campaign.c.weighting_report, campaign.c.snapshot_id,
                  campaign.c.created_at, snapshot.c.created_by, snapshot.c.created_at)
        .select_from(campaign.outerjoin(snapshot, snapshot.c.id == campaign.c.snapshot_id))
        .where(campaign.c.weighting_report.is_not(None))).all()
    runs = []
    for cid, report, snapshot_id, created, by, at in rows:
        if not isinstance(report, dict):
            continue
        runs.append({"campaign_id": cid, "run": 1, "report": report,
                     "options": {"margins": report.get("raked_to") or {},
                                 "trim": report.get("trim")},
                     "snapshot_id": snapshot_id, "weighted_by": by or "",
                     "weighted_at": at or created or dt.datetime.now(dt.UTC)})
    if runs:
        bind.execute(sa.insert(weighting), runs)


def downgrade():
    op.drop_table('campaign_weighting')
