"""The event bus on Apache Kafka (scaled mode), through aiokafka.

Publishing waits for every replica in sync (`acks=all`) on an idempotent producer, so the
broker drops the producer's own retries and keeps each partition in send order; the key picks
the partition, so one learner's statements (keyed by actor) stay in order. Consumers belong
to a group and commit offsets by hand, after processing: at least once.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from core.bus import Record


class KafkaPublisher:
    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer

    async def publish(self, topic: str, records: Sequence[tuple[bytes, bytes]]) -> None:
        acks = [await self._producer.send(topic, value=value, key=key) for key, value in records]
        await asyncio.gather(*acks)

    async def close(self) -> None:
        await self._producer.stop()


class KafkaConsumer:
    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self._consumer = consumer

    async def poll(self, max_records: int = 1000, timeout_s: float = 1.0) -> Sequence[Record]:
        batches = await self._consumer.getmany(
            timeout_ms=int(timeout_s * 1000), max_records=max_records
        )
        return [
            Record(m.topic, m.key or b"", m.value or b"", m.offset, m.partition)
            for messages in batches.values()
            for m in messages
        ]

    async def commit(self, records: Sequence[Record]) -> None:
        offsets: dict[TopicPartition, int] = {}
        for r in records:
            tp = TopicPartition(r.topic, r.partition)
            offsets[tp] = max(offsets.get(tp, 0), r.position + 1)  # Kafka: the next to read
        if offsets:
            await self._consumer.commit(offsets)

    async def close(self) -> None:
        await self._consumer.stop()


class KafkaBus:
    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str = "hyperedu",
        request_timeout_ms: int = 15_000,
        linger_ms: int = 5,
        max_batch_bytes: int = 256 * 1024,
    ) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._request_timeout_ms = request_timeout_ms
        self._linger_ms = linger_ms
        self._max_batch_bytes = max_batch_bytes
        # What close() stops: clients the caller still holds (a dropped one is collected).
        self._open: weakref.WeakSet[KafkaPublisher | KafkaConsumer] = weakref.WeakSet()

    async def publisher(self) -> KafkaPublisher:
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=self._linger_ms,
            max_batch_size=self._max_batch_bytes,
            request_timeout_ms=self._request_timeout_ms,
        )
        await _start(producer)
        publisher = KafkaPublisher(producer)
        self._open.add(publisher)
        return publisher

    async def consumer(
        self, group: str, topic: str, *, wanted: Sequence[str] = ()
    ) -> KafkaConsumer:
        """`wanted` changes nothing here: the broker sends every value whole, and checking
        them again in the client would only repeat what the handler checks."""
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            request_timeout_ms=self._request_timeout_ms,
        )
        await _start(consumer)
        wrapped = KafkaConsumer(consumer)
        self._open.add(wrapped)
        return wrapped

    async def close(self) -> None:
        for client in list(self._open):
            await client.close()
        self._open = weakref.WeakSet()


async def _start(client: AIOKafkaProducer | AIOKafkaConsumer) -> None:
    """Start `client`; if it cannot reach the cluster, release what it opened and re-raise."""
    try:
        await client.start()
    except BaseException:
        await client.stop()
        raise
