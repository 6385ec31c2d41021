"""The outbox relay: statements from the PostgreSQL log to the Kafka topic `xapi.statements`.

Ingest never touches Kafka: an acknowledged statement is a committed row, and this relay, a
consumer of the PostgreSQL statement log (group `relay.kafka`), publishes it afterwards. It
commits its PostgreSQL position only once Kafka has acknowledged the batch (acks=all), so
while Kafka is down the LRS keeps accepting and the relay retries the same batch with backoff,
then catches up. Nothing acknowledged is lost; a statement reaches Kafka twice only if a batch
is published again after Kafka took it: when the relay dies between Kafka's ack and its
position commit, or when Kafka fails a batch after storing part of it. Consumers of the topic
dedupe by statement id (the bus delivers at least once anyway).

Relays of one database elect themselves: the PostgreSQL consumer lets one reader per group at
a time (the others wait as standbys), so every `hyperedu serve` may run one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

import asyncpg
from aiokafka.errors import KafkaError

from core import tracing
from core.bus import STATEMENTS_TOPIC, Consumer, Record
from core.config import Settings
from ingest.bus_kafka import KafkaBus, KafkaPublisher
from ingest.bus_postgres import PostgresBus

log = logging.getLogger(__name__)

RELAY_GROUP = "relay.kafka"
_PROGRESS_EVERY_S = 30.0


class Relay:
    def __init__(
        self,
        source: Consumer,
        kafka: KafkaBus,
        *,
        batch_max: int = 2000,
        backoff_max_s: float = 10.0,
        publish_timeout_s: float = 5.0,
    ) -> None:
        self._source = source
        # A send to a broker that went away waits in the client for its request timeout;
        # this bound turns that wait into a logged failure and a retry on a fresh producer.
        self._publish_timeout = publish_timeout_s
        self._kafka = kafka
        self._batch_max = batch_max
        self._backoff_max = backoff_max_s
        self._publisher: KafkaPublisher | None = None
        self.relayed = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set; a batch in flight then stays uncommitted (sent again)."""
        reported, since = 0, time.monotonic()
        try:
            while not stop.is_set():
                records = await self._source.poll(self._batch_max, timeout_s=0.5)
                if not records or not await self._publish(records, stop):
                    continue
                await self._source.commit(records)
                self.relayed += len(records)
                if time.monotonic() - since >= _PROGRESS_EVERY_S:
                    log.info(
                        "relayed %d statements to kafka (through seq %d)",
                        self.relayed - reported,
                        records[-1].position,
                    )
                    reported, since = self.relayed, time.monotonic()
        finally:
            await self._drop_publisher()

    async def _publish(self, records: Sequence[Record], stop: asyncio.Event) -> bool:
        """Publish `records` until Kafka acknowledges them (True) or `stop` is set (False)."""
        delay = 0.2
        failures = 0
        while not stop.is_set():
            try:
                with tracing.span("relay.publish", _publish_attributes(records)):
                    # Connecting a new producer is bounded too: to a broker that is going
                    # away it can wait as long as a send, and say nothing meanwhile.
                    async with asyncio.timeout(self._publish_timeout):
                        if self._publisher is None:
                            self._publisher = await self._kafka.publisher()
                        await self._publisher.publish(
                            STATEMENTS_TOPIC, [(r.key, r.value) for r in records]
                        )
            except (KafkaError, OSError, TimeoutError) as exc:
                failures += 1
                log.warning(
                    "kafka unavailable (%s: %s); %d statements from seq %d wait, retry in %.1fs",
                    type(exc).__name__,
                    exc,
                    len(records),
                    records[0].position,
                    delay,
                )
                await self._drop_publisher()
                await _pause(stop, delay)
                delay = min(delay * 2, self._backoff_max)
                continue
            if failures:
                log.info("kafka is back after %d failed attempts; relaying", failures)
            return True
        return False

    async def _drop_publisher(self) -> None:
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            try:
                # Closing flushes what the producer holds, which waits on the broker too.
                async with asyncio.timeout(self._publish_timeout):
                    await publisher.close()
            except (KafkaError, OSError, TimeoutError) as exc:
                log.debug("closing the kafka producer: %s", exc)


def _publish_attributes(records: Sequence[Record]) -> dict[str, object]:
    return {
        "messaging.system": "kafka",
        "messaging.destination.name": STATEMENTS_TOPIC,
        "messaging.batch.message_count": len(records),
        "hyperedu.log.first_position": records[0].position,
        "hyperedu.log.last_position": records[-1].position,
    }


async def run_relay(
    settings: Settings, dsn: str, stop: asyncio.Event | None = None, *, batch_max: int = 2000
) -> None:
    """Relay the statement log of `dsn` to `settings.kafka_bootstrap` until `stop` is set."""
    if not settings.kafka_bootstrap:
        raise ValueError("kafka_bootstrap is not set: there is no Kafka to relay to")
    stop = stop or asyncio.Event()
    tracing.configure_tracing(settings)  # the relay runs as a process of its own
    kafka = KafkaBus(settings.kafka_bootstrap)
    log.info("relaying %s from postgresql to kafka", STATEMENTS_TOPIC)
    delay = 1.0
    while not stop.is_set():
        postgres = PostgresBus(dsn)
        try:
            source = await postgres.consumer(RELAY_GROUP, STATEMENTS_TOPIC)
            await Relay(source, kafka, batch_max=batch_max).run(stop)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.error("statement log unavailable (%s); retry in %.0fs", type(exc).__name__, delay)
            await _pause(stop, delay)
            delay = min(delay * 2, 30.0)
        finally:
            await postgres.close()
    await kafka.close()


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
