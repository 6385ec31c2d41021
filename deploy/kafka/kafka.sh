#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft: broker and controller in one JVM) for development,
# tests and CI, from the broker's jars on Maven Central; no Kafka download, no Docker.
#
#   deploy/kafka/kafka.sh start|stop|status|fetch   (fetch: only download the jars, for CI caches)
#
# KAFKA_PORT             client listener on 127.0.0.1 (9092)
# KAFKA_CONTROLLER_PORT  KRaft controller listener (KAFKA_PORT + 1)
# KAFKA_DIR              config, data, log and pid file (./var/kafka)
# KAFKA_CACHE            where the jars are kept (~/.cache/hyperedu/kafka)
# KAFKA_HEAP_OPTS        JVM heap (-Xms256m -Xmx512m)
# KAFKA_START_TIMEOUT    seconds to wait for the port to answer (90)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
DIR="$(mkdir -p "${KAFKA_DIR:-./var/kafka}" && cd "${KAFKA_DIR:-./var/kafka}" && pwd)"
VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/pom.xml")"
JARS="${KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hyperedu/kafka}/$VERSION"
PIDFILE="$DIR/kafka.pid"
TIMEOUT="${KAFKA_START_TIMEOUT:-90}"

say() { echo "kafka: $*"; }
die() { echo "kafka: $*" >&2; exit 1; }

running_pid() {
    [[ -f "$PIDFILE" ]] || return 1
    local pid
    pid="$(cat "$PIDFILE")"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && grep -q kafka.Kafka "/proc/$pid/cmdline" 2>/dev/null \
        && echo "$pid"
}

# A process that exists and has not exited (a zombie still answers kill -0).
alive() { kill -0 "$1" 2>/dev/null && [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

fetch_jars() {
    if [[ -f "$JARS/.complete" ]]; then
        return
    fi
    command -v java >/dev/null || die "java not found: install a JDK (17+)"
    command -v mvn >/dev/null || die "mvn not found: install Apache Maven"
    say "fetching Kafka $VERSION jars from Maven Central into $JARS"
    rm -rf "$JARS" && mkdir -p "$JARS"
    mvn -q -B -Dstyle.color=never -f "$HERE/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$JARS" || die "mvn could not fetch the jars"
    touch "$JARS/.complete"
}

write_config() {
    mkdir -p "$DIR/data"
    cat >"$DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$DIR/data
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
num.network.threads=2
num.io.threads=2
background.threads=2
log.cleaner.threads=1
EOF
    cat >"$DIR/log4j.properties" <<EOF
log4j.rootLogger=INFO, out
log4j.appender.out=org.apache.log4j.ConsoleAppender
log4j.appender.out.layout=org.apache.log4j.PatternLayout
log4j.appender.out.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
EOF
}

format_storage() {
    if [[ -f "$DIR/data/meta.properties" ]]; then
        return
    fi
    local cluster_id
    # The id is the last line: log4j's console appender may print before it.
    cluster_id="$(java -Dlog4j.configuration="file:$DIR/log4j.properties" -cp "$JARS/*" \
        kafka.tools.StorageTool random-uuid 2>>"$DIR/kafka.log" | tail -n 1)"
    say "formatting KRaft storage in $DIR/data (cluster $cluster_id)"
    java -Dlog4j.configuration="file:$DIR/log4j.properties" -cp "$JARS/*" kafka.tools.StorageTool \
        format -t "$cluster_id" -c "$DIR/server.properties" >>"$DIR/kafka.log" 2>&1 \
        || die "storage format failed; see $DIR/kafka.log"
}

start() {
    local pid
    if pid="$(running_pid)"; then
        say "already running (pid $pid) on 127.0.0.1:$PORT"
        return
    fi
    if port_open "$PORT"; then
        die "127.0.0.1:$PORT is taken by another process"
    fi
    fetch_jars
    write_config
    format_storage
    say "starting broker on 127.0.0.1:$PORT (controller :$CONTROLLER_PORT, data $DIR)"
    # shellcheck disable=SC2086
    nohup java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -Djava.awt.headless=true -Dlog4j.configuration="file:$DIR/log4j.properties" \
        -cp "$JARS/*" kafka.Kafka "$DIR/server.properties" >>"$DIR/kafka.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$PIDFILE"
    local deadline=$((SECONDS + TIMEOUT))
    until port_open "$PORT"; do
        # Whether the process lives, not running_pid: on a busy machine the child may not have
        # exec'd java yet, and its command line would not name kafka.Kafka.
        if ! alive "$pid"; then
            tail -n 30 "$DIR/kafka.log" >&2
            rm -f "$PIDFILE"
            die "the broker exited; see $DIR/kafka.log"
        fi
        if ((SECONDS >= deadline)); then
            kill -KILL "$pid" 2>/dev/null || true
            rm -f "$PIDFILE"
            die "the broker did not open 127.0.0.1:$PORT in ${TIMEOUT}s; see $DIR/kafka.log"
        fi
        sleep 0.2
    done
    say "up (pid $(cat "$PIDFILE")) on 127.0.0.1:$PORT"
}

stop() {
    local pid
    if ! pid="$(running_pid)"; then
        say "not running"
        rm -f "$PIDFILE"
        return
    fi
    say "stopping (pid $pid)"
    kill -TERM "$pid"
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            say "no clean shutdown in 30s; killing"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        sleep 0.2
    done
    rm -f "$PIDFILE"
    say "stopped"
}

status() {
    local pid
    if pid="$(running_pid)"; then
        say "running (pid $pid) on 127.0.0.1:$PORT, data $DIR"
    else
        say "not running"
        return 3
    fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
fetch) fetch_jars ;;
*)
    echo "usage: $0 start|stop|status|fetch" >&2
    exit 2
    ;;
esac
