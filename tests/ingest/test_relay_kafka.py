"""Kafka bus and the outbox relay, on a real broker (deploy/kafka/kafka.sh) and the real server.

Every acknowledged statement reaches `xapi.statements`, through Kafka outages and relay
crashes; duplicates are possible (at least once), so the checks dedupe by statement id.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import psutil
import pytest
from aiokafka import AIOKafkaConsumer

from core.bus import STATEMENTS_TOPIC
from ingest.bus_kafka import KafkaBus
from tests.conftest import HYPEREDU, Server, basic, create_credential, free_port
from tests.ingest.test_durability import post_until

KAFKA_SH = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "kafka.sh"


@dataclass
class Broker:
    directory: Path
    port: int
    controller_port: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def run(self, action: str) -> None:
        done = subprocess.run(
            [str(KAFKA_SH), action],
            env={
                **os.environ,
                "KAFKA_DIR": str(self.directory),
                "KAFKA_PORT": str(self.port),
                "KAFKA_CONTROLLER_PORT": str(self.controller_port),
            },
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            pytest.fail(f"kafka.sh {action} failed:\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    missing = [tool for tool in ("java", "mvn") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"the Kafka tests need {' and '.join(missing)} on PATH (a JDK 17+ and Apache Maven):"
            " deploy/kafka/kafka.sh fetches the broker from Maven Central and runs it with java"
        )
    broker = Broker(tmp_path_factory.mktemp("kafka"), free_port(), free_port())
    broker.run("start")
    yield broker
    broker.run("stop")


@dataclass
class RelayProcess:
    """`hyperedu relay` beside the session's server, as operators run it."""

    server: Server
    database_url: str
    bootstrap: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.server.data_dir / "relay.log"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [*HYPEREDU, "relay", "--data-dir", str(self.server.data_dir)],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "HYPEREDU_DATABASE_URL": self.database_url,
                "HYPEREDU_KAFKA_BOOTSTRAP": self.bootstrap,
            },
        )

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)
        self.process = None


@pytest.fixture
def relay(server: Server, database_url: str, kafka: Broker) -> Iterator[RelayProcess]:
    process = RelayProcess(server, database_url, kafka.bootstrap)
    process.start()
    yield process
    process.stop()


async def statement_ids_in_topic(
    bootstrap: str, wanted: set[str], timeout_s: float = 60
) -> Counter[str]:
    """How often each statement id is in `xapi.statements`, reading until `wanted` are there."""
    consumer = AIOKafkaConsumer(
        STATEMENTS_TOPIC,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: Counter[str] = Counter()
    try:
        deadline = time.monotonic() + timeout_s
        while not wanted <= seen.keys() and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            for messages in batches.values():
                for m in messages:
                    seen[msgspec.json.decode(m.value)["id"]] += 1
    finally:
        await consumer.stop()
    return seen


class Posters:
    """Clients posting statements in batches of 10 until stopped; records what was acknowledged."""

    def __init__(self, server: Server, auth: str, clients: int = 4) -> None:
        self.acknowledged: list[str] = []
        self._stop = threading.Event()
        tag = uuid.uuid4().hex[:8]
        self._threads = [
            threading.Thread(
                target=post_until,
                args=(server.url, auth, f"relay-{tag}-{i}", self.acknowledged, self._stop),
            )
            for i in range(clients)
        ]

    def __enter__(self) -> Posters:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()


async def test_kafka_bus_round_trip_keeps_each_keys_order_and_resumes_after_commit(kafka):
    topic, group = f"test.kafka.{uuid.uuid4().hex[:8]}", f"test.{uuid.uuid4().hex[:8]}"
    bus = KafkaBus(kafka.bootstrap)
    try:
        publisher = await bus.publisher()
        await publisher.publish(topic, [(b"learner-%d" % (n % 5), b"%d" % n) for n in range(200)])
        consumer = await bus.consumer(group, topic)
        records = []
        deadline = time.monotonic() + 30
        while len(records) < 200 and time.monotonic() < deadline:
            records.extend(await consumer.poll(max_records=500, timeout_s=1))
        assert sorted(int(r.value) for r in records) == list(range(200))
        for key in {r.key for r in records}:
            values = [int(r.value) for r in records if r.key == key]
            assert values == sorted(values), f"{key!r} out of order"
        await consumer.commit(records)
        await consumer.close()

        await publisher.publish(topic, [(b"learner-0", b"200")])
        resumed = await bus.consumer(group, topic)
        more = []
        deadline = time.monotonic() + 30
        while not more and time.monotonic() < deadline:
            more.extend(await resumed.poll(timeout_s=1))
        assert [int(r.value) for r in more] == [200]
    finally:
        await bus.close()


async def test_statements_accepted_while_kafka_is_down_all_reach_the_topic(
    server, client, kafka, relay
):
    auth = client.headers["Authorization"]
    with Posters(server, auth) as posters:
        await asyncio.sleep(1)
        await asyncio.to_thread(kafka.run, "stop")
        during_outage = len(posters.acknowledged)
        # down until the relay has noticed (its publish timeout bounds that), then 2 s more
        for _ in range(60):
            if "kafka unavailable" in relay.log.read_text():
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)
        assert len(posters.acknowledged) > during_outage, "ingest stalled while Kafka was down"
        await asyncio.to_thread(kafka.run, "start")
        await asyncio.sleep(1)
    acknowledged = set(posters.acknowledged)
    seen = await statement_ids_in_topic(kafka.bootstrap, acknowledged)
    missing = acknowledged - seen.keys()
    assert not missing, (
        f"{len(missing)} of {len(acknowledged)} acknowledged statements lost;"
        f" relay log:\n{relay.log.read_text()[-3000:]}"
    )
    assert "kafka unavailable" in relay.log.read_text()


async def test_a_relay_killed_mid_stream_resumes_and_loses_nothing(server, client, kafka, relay):
    auth = client.headers["Authorization"]
    with Posters(server, auth) as posters:
        for _ in range(3):
            await asyncio.sleep(1)
            relay.stop(signal.SIGKILL)
            await asyncio.sleep(0.3)
            relay.start()
        await asyncio.sleep(1)
    acknowledged = set(posters.acknowledged)
    seen = await statement_ids_in_topic(kafka.bootstrap, acknowledged)
    assert acknowledged <= seen.keys()


async def test_serve_runs_the_relay_when_kafka_is_configured(tmp_path, kafka):
    key, secret = create_credential(tmp_path)
    own = Server(tmp_path, free_port(), env={"HYPEREDU_KAFKA_BOOTSTRAP": kafka.bootstrap})
    own.start()
    try:
        with Posters(own, basic(key, secret), clients=1) as posters:
            await asyncio.sleep(0.5)
        acknowledged = set(posters.acknowledged)
        seen = await statement_ids_in_topic(kafka.bootstrap, acknowledged, timeout_s=30)
        assert acknowledged and acknowledged <= seen.keys()
    finally:
        own.stop()


def relay_children(server: Server) -> list[int]:
    """The pids of the `hyperedu relay` children of the server's main process."""
    assert server.process is not None
    return [
        child.pid
        for child in psutil.Process(server.process.pid).children()
        if "relay" in child.cmdline()
    ]


async def test_serve_starts_its_relay_again_when_it_dies(tmp_path, kafka):
    key, secret = create_credential(tmp_path)
    own = Server(tmp_path, free_port(), env={"HYPEREDU_KAFKA_BOOTSTRAP": kafka.bootstrap})
    own.start()
    try:
        (first,) = relay_children(own)
        os.kill(first, signal.SIGKILL)
        with Posters(own, basic(key, secret), clients=1) as posters:
            await asyncio.sleep(0.5)
        acknowledged = set(posters.acknowledged)
        deadline = time.monotonic() + 30
        while not (again := [pid for pid in relay_children(own) if pid != first]):
            assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()[-3000:]
            await asyncio.sleep(0.1)
        assert len(again) == 1
        assert "the outbox relay exited" in (tmp_path / "server.log").read_text()
        seen = await statement_ids_in_topic(kafka.bootstrap, acknowledged, timeout_s=30)
        assert acknowledged and acknowledged <= seen.keys()
    finally:
        own.stop()
    assert not psutil.pid_exists(again[0]) or psutil.Process(again[0]).status() == "zombie"
