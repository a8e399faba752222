"""A small valid definition covering every item type and index rule, for tests."""

from __future__ import annotations

import copy
from typing import Any

LIKERT = {
    "options": [
        {"value": v, "label": {"vi": vi, "en": en}}
        for v, vi, en in [
            (1, "Rất không hài lòng", "Very dissatisfied"),
            (2, "Không hài lòng", "Dissatisfied"),
            (3, "Bình thường", "Neutral"),
            (4, "Hài lòng", "Satisfied"),
            (5, "Rất hài lòng", "Very satisfied"),
        ]
    ]
}


def _scale(*values: int) -> dict[str, Any]:
    return {
        "options": [{"value": v, "label": {"vi": f"Mức {v}", "en": f"Level {v}"}} for v in values]
    }


def _item(iid: str, itype: str, **extra: Any) -> dict[str, Any]:
    base = {
        "id": iid,
        "type": itype,
        "text": {"vi": f"Câu hỏi {iid}", "en": f"Question {iid}"},
        "required": False,
        "provenance": "inferred",
    }
    return {**base, **extra}


def _node(nid: str, rule: str, children: list[str], **extra: Any) -> dict[str, Any]:
    base = {
        "id": nid,
        "title": {"vi": f"Chỉ số {nid}", "en": f"Index {nid}"},
        "rule": rule,
        "children": children,
        "provenance": "inferred",
    }
    return {**base, **extra}


_MINIMAL: dict[str, Any] = {
    "format": 1,
    "key": "demo",
    "version": 1,
    "title": {"vi": "Phiếu thử nghiệm", "en": "Test form"},
    "sector": "administrative",
    "status": "draft",
    "decisions": ["Quyết định 1001/QĐ-BNV ngày 11/12/2023"],
    "provenance": "inferred",
    "text_status": "summary",
    "na_label": {"vi": "Không áp dụng", "en": "Not applicable"},
    "scales": {"hl5": LIKERT, "pts": _scale(0, 1, 2), "kenh": _scale(1, 2, 3)},
    "sections": [
        {
            "id": "ho_so",
            "title": {"vi": "Thông tin", "en": "About you"},
            "page": 1,
            "profile": True,
            "items": [_item("gioi_tinh", "single_choice", scale="kenh", profile_field="sex")],
        },
        {
            "id": "chung",
            "title": {"vi": "Đánh giá", "en": "Ratings"},
            "page": 2,
            "items": [
                _item("q_yes", "yes_no", required=True),  # 0
                _item(  # 1
                    "q_lik",
                    "likert5",
                    scale="hl5",
                    required=True,
                    not_applicable=True,
                    show_if={"item": "q_yes", "in": [True]},
                ),
                _item("q_lik2", "likert5", scale="hl5"),  # 2
                _item("q_pts", "points", scale="pts"),  # 3
                _item("q_one", "single_choice", scale="kenh", not_applicable=True),  # 4
                _item("q_many", "multiple_choice", scale="kenh", max_choices=2),  # 5
                _item("q_num", "number", min=0, max=10, integer=True),  # 6
                _item("q_pct", "percentage"),  # 7
                _item("q_txt", "text", max_length=5, show_if={"item": "q_many", "in": [3]}),  # 8
                _item("q_why", "text", max_length=50, show_if={"item": "q_lik", "in": [1, 2]}),  # 9
            ],
        },
    ],
    "index": {
        "overall": "tong",
        "nodes": [
            _node("nhom_a", "share_at_least", ["q_lik", "q_lik2"], threshold=4),  # 0
            _node("nhom_b", "share_at_least", ["q_pts"], threshold=2),  # 1
            _node("tong", "weighted_mean", ["nhom_a", "nhom_b"], weights=[0.75, 0.25]),  # 2
            _node("diem", "mean_score", ["q_lik", "q_lik2"]),  # 3
            _node("toan_dien", "comprehensive", ["q_lik", "q_lik2"], threshold=4),  # 4
            _node("nhom_c", "share_in", ["q_one"], values=[2, 3]),  # 5
            _node(
                "gop", "share_at_least", ["q_lik", "q_lik2"], threshold=4, pooling="answers"
            ),  # 6
            _node("tb_a", "mean", ["nhom_a"]),  # 7
        ],
    },
}


def minimal() -> dict[str, Any]:
    """Return a fresh deep copy of the valid test definition."""
    return copy.deepcopy(_MINIMAL)
