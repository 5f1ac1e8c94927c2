"""The relay's publisher: a future per message, settled by JetStream's reply — stored, or why not."""

from __future__ import annotations

import asyncio

import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import APIError, NoStreamResponseError

from mentornet_events import Subjects
from mentornet_spine.publisher import AckedPublisher


async def test_a_batch_of_acks_resolves_when_every_message_is_stored_in_order(
    nc: Client, js: JetStreamContext, subjects: Subjects
) -> None:
    publisher = AckedPublisher(nc)
    subject = subjects.event("programs", "pair", "PairFormed")
    acks = [await publisher.publish(subject, f"m{i}".encode(), {"Nats-Msg-Id": f"id-{i}"}) for i in range(50)]
    assert await asyncio.gather(*acks) == [None] * 50
    info = await js.stream_info(subjects.stream("programs"))
    assert info.state.messages == 50
    assert (await js.get_msg(subjects.stream("programs"), 50)).data == b"m49"
    assert not publisher._pending, "a settled ack leaves nothing behind"


async def test_a_subject_no_stream_listens_on_fails_its_ack(nc: Client, subjects: Subjects) -> None:
    publisher = AckedPublisher(nc)
    ack = await publisher.publish(f"{subjects.root}.nobody.listens", b"x", {})
    with pytest.raises(NoStreamResponseError):
        await asyncio.wait_for(ack, 5)


async def test_an_error_reply_fails_its_ack_with_jetstreams_reason(
    nc: Client, js: JetStreamContext, subjects: Subjects
) -> None:
    publisher = AckedPublisher(nc)
    subject = subjects.event("programs", "pair", "PairFormed")
    ack = await publisher.publish(subject, b"x", {"Nats-Expected-Stream": "SOME_OTHER_STREAM"})
    with pytest.raises(APIError) as refused:
        await asyncio.wait_for(ack, 5)
    assert "stream" in str(refused.value).lower()
    assert (await js.stream_info(subjects.stream("programs"))).state.messages == 0
