"""Which campaign a one-time token belongs to (the submission service records it on the
response): the campaign whose frame row carries the token."""

from __future__ import annotations

from sqlalchemy import select

from survey.campaigns.models import FrameRow, SamplingFrame
from survey.extensions import db


def campaign_of_token(token_id: int) -> int | None:
    return db.session.scalar(
        select(SamplingFrame.campaign_id).join(FrameRow, FrameRow.frame_id == SamplingFrame.id)
        .where(FrameRow.token_id == token_id))
