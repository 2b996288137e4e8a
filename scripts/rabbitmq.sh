#!/usr/bin/env bash
# A private RabbitMQ node on loopback for tests and local runs: its own node name, data dir and
# ports, so it never collides with another node or another run.
#
#   scripts/rabbitmq.sh start DIR   start a node keeping its state in DIR; prints the amqp:// URI
#                                   and writes DIR/env (RABBITMQ_URI, node name, ports)
#   scripts/rabbitmq.sh stop DIR    stop that node (and Erlang's epmd, once no node is registered in it)
#   scripts/rabbitmq.sh resume DIR  start a stopped node again, same ports and data
#   scripts/rabbitmq.sh restart DIR stop and start again on the same ports and data (tests use it)
set -euo pipefail

RABBIT_BIN=/usr/lib/rabbitmq/bin

install() {
  [ -x "$RABBIT_BIN/rabbitmq-server" ] || "$(dirname "$0")/install-deps.sh"
}

# Starting a node starts epmd when none runs; it would outlive the node. Ended only when idle,
# so another node on this machine keeps its name service.
stop_idle_epmd() {
  local pid
  pid=$(pgrep -x epmd) || return 0
  if ! epmd -names 2>/dev/null | grep -q '^name '; then kill "$pid" 2>/dev/null || true; fi
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

node_env() {
  local dir=$1
  # shellcheck disable=SC1091
  source "$dir/env"
  export HOME="$dir/home"
  export RABBITMQ_NODENAME RABBITMQ_NODE_PORT RABBITMQ_DIST_PORT
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_MNESIA_BASE="$dir/mnesia"
  export RABBITMQ_LOG_BASE="$dir/log"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
  export RABBITMQ_PID_FILE="$dir/rabbit.pid"
  export RABBITMQ_CONFIG_FILE="$dir/rabbitmq"
  export ERL_EPMD_ADDRESS=127.0.0.1
}

wait_for_port() {
  local port=$1 deadline=$((SECONDS + 60))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then echo "RabbitMQ did not open port $port within 60 s" >&2; return 1; fi
    sleep 0.2
  done
}

start_node() {
  local dir=$1
  node_env "$dir"
  "$RABBIT_BIN/rabbitmq-server" -detached >/dev/null 2>&1
  wait_for_port "$RABBITMQ_NODE_PORT"
  # The port opens before the node is fully booted: wait for the app itself.
  "$RABBIT_BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" -q await_startup --timeout 60 >/dev/null
}

stop_node() {
  local dir=$1
  [ -f "$dir/env" ] || return 0
  node_env "$dir"
  if [ -f "$RABBITMQ_PID_FILE" ]; then
    "$RABBIT_BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" -q stop "$RABBITMQ_PID_FILE" >/dev/null 2>&1 || true
  fi
}

cmd=${1:-}
case "$cmd" in
  start)
    dir=$(realpath -m "${2:?usage: rabbitmq.sh start DIR}")
    install
    mkdir -p "$dir/home" "$dir/mnesia" "$dir/log"
    port=$(free_port); dist=$(free_port)
    id="tr$$-$RANDOM"
    cat >"$dir/env" <<ENV
RABBITMQ_NODENAME=$id@localhost
RABBITMQ_NODE_PORT=$port
RABBITMQ_DIST_PORT=$dist
RABBITMQ_URI=amqp://guest:guest@127.0.0.1:$port/
ENV
    echo "[]." >"$dir/enabled_plugins"
    # guest may log in from loopback only, which is all this node listens on.
    echo "loopback_users.guest = true" >"$dir/rabbitmq.conf"
    head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/home/.erlang.cookie"
    chmod 400 "$dir/home/.erlang.cookie"
    start_node "$dir"
    echo "amqp://guest:guest@127.0.0.1:$port/"
    ;;
  stop)
    stop_node "$(realpath -m "${2:?usage: rabbitmq.sh stop DIR}")"
    stop_idle_epmd
    ;;
  resume) start_node "$(realpath -m "${2:?usage: rabbitmq.sh resume DIR}")" ;;
  restart)
    dir=$(realpath -m "${2:?usage: rabbitmq.sh restart DIR}")
    stop_node "$dir"
    start_node "$dir"
    ;;
  *) echo "usage: $0 start DIR | stop DIR | resume DIR | restart DIR" >&2; exit 2 ;;
esac
