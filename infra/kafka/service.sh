#!/usr/bin/env bash
# Apache Kafka 4.x broker for tests: one KRaft node (broker + controller) on loopback, run
# straight from Maven Central jars (see pom.xml) on the machine's Java 17. No Docker, no tarball.
#
#   service.sh install   resolve the jar classpath into $NEXUSLOG_CACHE_DIR/kafka (cached)
#   service.sh start     fresh data dir, format storage, start the broker, wait until healthy
#   service.sh stop      stop the broker (TERM, then KILL after 30s)
#   service.sh restart   stop, then start again KEEPING the data dir (chaos tests: acked data must
#                        survive a broker restart); formats storage only if it was never formatted
#   service.sh health    cheap check (no JVM): our process alive, "Kafka Server started" logged, port open
#   service.sh smoke     manual end-to-end check: topic, transactional produce, read_committed consume
#
# Ports: $KAFKA_PORT (clients, PLAINTEXT), $KAFKA_SASL_PORT (clients, SASL_PLAINTEXT with
# PLAIN), $KAFKA_SSL_PORT (clients, SSL with a client certificate), $KAFKA_SASL_SSL_PORT
# (clients, SASL_SSL with SCRAM) and $KAFKA_CONTROLLER_PORT (KRaft controller).
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

NAME=kafka
HERE="$INFRA_DIR/kafka"
CACHE="$NEXUSLOG_CACHE_DIR/kafka"
CP_FILE="$CACHE/classpath.txt"
DATA="$(svc_dir "$NAME")"
JAVA="${JAVA:-java}"
# Modest heap: tests need little, and the machine is shared with Rust builds.
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}"
JVM_OPTS=(-XX:+UseSerialGC -Djava.awt.headless=true
  "-Dlog4j2.configurationFile=$HERE/log4j2.properties")

# classpath: print the cached classpath, failing if install has not run.
classpath() {
  [[ -s "$CP_FILE" ]] || die "kafka is not installed (run: infra/services up kafka)"
  cat "$CP_FILE"
}

cmd_install() {
  mkdir -p "$CACHE"
  # A cached classpath is stale if its jars have gone (e.g. the Maven repo was wiped).
  if [[ -s "$CP_FILE" ]]; then
    local jar
    while IFS= read -r jar; do
      [[ -f "$jar" ]] || { rm -f "$CP_FILE"; break; }
    done < <(tr ':' '\n' <"$CP_FILE")
  fi
  mvn_classpath "$HERE" "$CP_FILE"
}

# port_open PORT: TCP connect via bash's /dev/tcp, so health needs no JVM or extra tools.
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

cmd_health() {
  # start_bg truncates the log on each start, so the marker belongs to the current process.
  is_running "$NAME" &&
    grep -q 'Kafka Server started' "$(log_file "$NAME")" 2>/dev/null &&
    port_open "$KAFKA_PORT"
}

# random_cluster_id: a Kafka-style Uuid (16 random bytes, URL-safe base64, no padding) without
# spawning a JVM for `StorageTool random-uuid`. Kafka rejects ids that start with '-'.
random_cluster_id() {
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    [[ "$id" != -* ]] && { echo "$id"; return; }
  done
}

render_config() {
  cat <<EOF
# Rendered by infra/kafka/service.sh: single combined KRaft node on loopback (throwaway data).
process.roles=broker,controller
node.id=1
# Static quorum of one voter, so the storage is formatted without --standalone.
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,SASL_PLAINTEXT://127.0.0.1:$KAFKA_SASL_PORT,SSL://127.0.0.1:$KAFKA_SSL_PORT,SASL_SSL://127.0.0.1:$KAFKA_SASL_SSL_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,SASL_PLAINTEXT://127.0.0.1:$KAFKA_SASL_PORT,SSL://127.0.0.1:$KAFKA_SSL_PORT,SASL_SSL://127.0.0.1:$KAFKA_SASL_SSL_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
# A SASL/PLAIN listener beside the plain one, for the client's bus.kafka.sasl_* settings
# (nexuslog/tests/pipeline.rs); one user, \$KAFKA_SASL_USER / \$KAFKA_SASL_PASSWORD.
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_SASL_USER="$KAFKA_SASL_PASSWORD";
# TLS listeners with the test CA's server certificate (infra/lib/common.sh ensure_certs): SSL
# demands a client certificate; SASL_SSL authenticates with SCRAM (the same user and password,
# created for both SHA variants when the storage is formatted).
ssl.keystore.type=PEM
ssl.keystore.location=$INFRA_TLS_DIR/server-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$INFRA_TLS_DIR/ca.pem
listener.name.ssl.ssl.client.auth=required
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA/kraft-logs
num.partitions=3
auto.create.topics.enable=true
# One broker: internal topics must not ask for more replicas than exist, or consumer groups,
# transactions and share groups never get a coordinator. The defaults are RF 3.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Fewer internal partitions (default 50 each): their first creation is much faster.
offsets.topic.num.partitions=3
transaction.state.log.num.partitions=3
share.coordinator.state.topic.num.partitions=3
# Tests should not wait 3s for the first consumer-group rebalance.
group.initial.rebalance.delay.ms=0
EOF
}

cmd_start() {
  if cmd_health; then log "kafka already healthy"; return 0; fi
  # A live but unhealthy broker (hung, or another start in progress) owns the data dir: stop it.
  if is_running "$NAME"; then log "kafka running but not healthy: restarting"; stop_pid "$NAME"; fi
  # Throwaway data: every start begins from an empty, freshly formatted log dir.
  rm -rf "$DATA"
  launch
}

# cmd_restart: a broker restart as in production: controlled shutdown, same data, same cluster id.
cmd_restart() {
  cmd_stop
  launch
}

# launch: format the storage if it has never been formatted, start the broker, wait until healthy.
launch() {
  local cp; cp="$(classpath)"
  ensure_certs
  mkdir -p "$DATA"
  render_config >"$DATA/server.properties"

  if [[ ! -f "$DATA/kraft-logs/meta.properties" ]]; then
    # StorageTool.main calls System.exit, so it gets its own short-lived JVM.
    if ! "$JAVA" -Xmx256m "${JVM_OPTS[@]}" -cp "$cp" kafka.tools.StorageTool \
        format -t "$(random_cluster_id)" -c "$DATA/server.properties" \
        --add-scram "SCRAM-SHA-256=[name=$KAFKA_SASL_USER,password=$KAFKA_SASL_PASSWORD]" \
        --add-scram "SCRAM-SHA-512=[name=$KAFKA_SASL_USER,password=$KAFKA_SASL_PASSWORD]" \
        >"$DATA/format.log" 2>&1; then
      cat "$DATA/format.log" >&2
      die "kafka storage format failed"
    fi
  fi

  # shellcheck disable=SC2086  # KAFKA_HEAP_OPTS is a list of flags
  start_bg "$NAME" "$JAVA" $KAFKA_HEAP_OPTS "${JVM_OPTS[@]}" -cp "$cp" kafka.Kafka "$DATA/server.properties"
  if ! wait_healthy "$NAME" "${KAFKA_START_TIMEOUT:-120}" cmd_health; then
    # The log tail is mostly shutdown noise: surface the first errors, which say why.
    grep -m 3 -A 1 -E ' (ERROR|FATAL) ' "$(log_file "$NAME")" | cut -c1-400 >&2 || true
    stop_pid "$NAME"
    return 1
  fi
}

cmd_stop() {
  # Kafka's TERM handler does a controlled shutdown (a few seconds); stop_pid KILLs after 30s.
  stop_pid "$NAME" 30
}

cmd_smoke() {
  cmd_health || die "kafka is not healthy"
  # Java's single-file source launcher: kafka-clients is already on the broker classpath.
  "$JAVA" -Xmx256m "${JVM_OPTS[@]}" -Dkafka.log.level=WARN -cp "$(classpath)" "$HERE/Smoke.java" "127.0.0.1:$KAFKA_PORT"
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_restart ;;
  health) cmd_health ;;
  smoke) cmd_smoke ;;
  *) die "usage: $0 install|start|stop|restart|health|smoke" ;;
esac
