"""Error types of the questionnaires package."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ANSWER_MESSAGES",
    "AnswerError",
    "DefinitionError",
    "LockError",
    "NotFlattenableError",
    "answer_error",
]


class DefinitionError(ValueError):
    """A questionnaire definition is invalid.

    The message names the file (or the ``source`` given to ``parse_definition``) and
    the path inside the JSON document, e.g.
    ``health_outpatient/v1.json: sections[2].items[4].scale: missing``.

    Parameters
    ----------
    source : str
        File name relative to the questionnaires root, or the label given by the caller.
    path : str
        Path inside the document (``<root>`` for the document itself).
    message : str
        What is wrong.
    """

    def __init__(self, source: str, path: str, message: str) -> None:
        self.source = source
        self.path = path or "<root>"
        self.message = message
        super().__init__(f"{source}: {self.path}: {message}")


class NotFlattenableError(ValueError):
    """An index node cannot be flattened into weights on items.

    Parameters
    ----------
    node_id : str
        The node that was asked for.
    reason : str
        Why it cannot be flattened.
    needs : str
        What the analysis needs instead.
    """

    def __init__(self, node_id: str, reason: str, needs: str) -> None:
        self.node_id = node_id
        self.reason = reason
        self.needs = needs
        super().__init__(f"index node {node_id!r} cannot be flattened: {reason}; needs: {needs}")


class LockError(RuntimeError):
    """The lock file of published definitions does not match the files."""


@dataclass(frozen=True)
class AnswerError:
    """One problem in a submitted answer set.

    Attributes
    ----------
    item_id : str
        The item concerned (or the unknown key that was submitted).
    code : str
        Machine-readable code, e.g. ``required``, ``out_of_range``.
    message_vi : str
        Message for the citizen in Vietnamese.
    message_en : str
        The same message in English.
    """

    item_id: str
    code: str
    message_vi: str
    message_en: str


#: Bilingual messages of :class:`AnswerError` by code (``str.format`` fields in braces).
ANSWER_MESSAGES: dict[str, tuple[str, str]] = {
    "unknown_item": ("Câu hỏi không có trong phiếu.", "This question is not in the form."),
    "required": ("Vui lòng trả lời câu hỏi này.", "Please answer this question."),
    "na_not_allowed": (
        "Câu hỏi này không có lựa chọn “Không áp dụng”.",
        "“Not applicable” is not an option for this question.",
    ),
    "wrong_type": ("Câu trả lời không đúng định dạng.", "The answer has the wrong format."),
    "invalid_choice": ("Lựa chọn không hợp lệ.", "This choice is not valid."),
    "duplicate_choice": ("Một lựa chọn bị chọn nhiều lần.", "A choice was selected twice."),
    "too_many_choices": ("Chọn tối đa {n} phương án.", "Select at most {n} options."),
    "out_of_range": ("Giá trị phải từ {lo} đến {hi}.", "The value must be between {lo} and {hi}."),
    "not_integer": ("Giá trị phải là số nguyên.", "The value must be a whole number."),
    "too_long": ("Nội dung dài quá {n} ký tự.", "The text is longer than {n} characters."),
    "hidden": (
        "Câu hỏi này không áp dụng với các câu trả lời trước; câu trả lời sẽ bị bỏ qua.",
        "This question does not apply given earlier answers; the answer is ignored.",
    ),
}


def answer_error(item_id: str, code: str, **fmt: object) -> AnswerError:
    """Return the :class:`AnswerError` ``code`` of ``item_id`` with its bilingual message."""
    vi, en = ANSWER_MESSAGES[code]
    return AnswerError(item_id, code, vi.format(**fmt), en.format(**fmt))
