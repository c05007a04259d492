"""What a GetTransactionStatus answer is read as, and what is refused as unreadable."""

from __future__ import annotations

import pytest

from chargegrid.session.station_query import StatusUnreadable, TransactionStatus, status_of


def test_an_answer_is_read_as_ongoing_and_messages_in_queue() -> None:
    answer = {"ongoingIndicator": False, "messagesInQueue": True}
    assert status_of(answer) == TransactionStatus(ongoing=False, messages_in_queue=True)


@pytest.mark.parametrize(
    "answer",
    [
        {"messagesInQueue": False},
        {"ongoingIndicator": False},
        {"ongoingIndicator": "false", "messagesInQueue": False},
        [False, False],
    ],
)
def test_an_answer_without_both_booleans_is_unreadable_not_taken_as_lost(answer: object) -> None:
    with pytest.raises(StatusUnreadable):
        status_of(answer)
