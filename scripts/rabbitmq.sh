#!/usr/bin/env bash
# Private RabbitMQ nodes on loopback for tests and local runs: their own node names, data dirs and
# ports, so they never collide with another node or another run. One node, or a cluster.
#
#   scripts/rabbitmq.sh start DIR [--nodes N]  start a node (or an N-node cluster) keeping its state in
#                                              DIR; prints the amqp:// URI (a cluster: one per node,
#                                              comma-separated) and writes DIR/env. A cluster's nodes
#                                              live in DIR/n1, DIR/n2, …
#   scripts/rabbitmq.sh stop DIR               stop the node(s) (and Erlang's epmd once no node is registered)
#   scripts/rabbitmq.sh resume DIR             start stopped (or killed) node(s) again, same ports and data
#   scripts/rabbitmq.sh restart DIR            stop and start again on the same ports and data
#   scripts/rabbitmq.sh kill DIR               kill -9 a node (DIR is a node's folder, e.g. DIR/n2)
#   scripts/rabbitmq.sh ctl DIR ARGS…          rabbitmqctl ARGS against that node
#
# RABBITMQ_VERSION picks the broker: 3.10 (default, Debian 12's rabbitmq-server) or 4.0 (Debian 13's,
# in a root built by scripts/rabbitmq4-root.sh; that root shares the host's network, so its nodes
# listen on 127.0.0.1 like the others).
#
# Every node runs with deploy/rabbitmq/advanced.config, as the compose file's nodes do:
# dead_letter_worker_publisher_confirm_timeout = 5 s (README, "Running on a cluster"; the wait queues
# dead-letter at-least-once, and after a node loss the default 180 s held waiting jobs back for three minutes).
set -euo pipefail

scripts=$(cd "$(dirname "$0")" && pwd)
RABBIT_BIN=/usr/lib/rabbitmq/bin
sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo -E)

# ---- which broker ---------------------------------------------------------------------------------

version_root() {
  case "$1" in
    3.10) echo "" ;;
    4.0) "$scripts/rabbitmq4-root.sh" ;;
    *) echo "RABBITMQ_VERSION must be 3.10 or 4.0, not '$1'" >&2; exit 2 ;;
  esac
}

ensure_installed() {
  if [ "$1" = 3.10 ]; then [ -x "$RABBIT_BIN/rabbitmq-server" ] || "$scripts/install-deps.sh"; fi
  # The host's epmd serves 4.0 nodes too: one started inside the root would keep its /dev busy.
  command -v epmd >/dev/null || "$scripts/install-deps.sh"
}

# ---- one node -------------------------------------------------------------------------------------

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
  export RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config"
  export ERL_EPMD_ADDRESS=127.0.0.1
  NODE_PID_FILE="$dir/node.pid"
  ROOT=$(version_root "$RABBITMQ_VERSION")
}

# Runs a RabbitMQ program of the node's version: on the host, or inside the 4.0 root.
rabbit() {
  local program=$1; shift
  if [ -z "$ROOT" ]; then "$RABBIT_BIN/$program" "$@"; else "${sudo[@]}" chroot "$ROOT" "$RABBIT_BIN/$program" "$@"; fi
}

# The 4.0 root sees the node's folder at the same path as the host, so logs and pid files have one path.
mount_root_for() {
  local dir=$1
  [ -n "$ROOT" ] || return 0
  (
    # The nodes of a cluster start side by side: one of them mounts proc and dev.
    flock 7
    mountpoint -q "$ROOT/proc" || "${sudo[@]}" mount -t proc proc "$ROOT/proc"
    mountpoint -q "$ROOT/dev" || "${sudo[@]}" mount --bind /dev "$ROOT/dev"
  ) 7>/tmp/taskresults-rabbitmq4-mounts.lock
  "${sudo[@]}" mkdir -p "$ROOT$dir"
  mountpoint -q "$ROOT$dir" || "${sudo[@]}" mount --bind "$dir" "$ROOT$dir"
}

unmount_root_for() {
  local dir=$1
  [ -n "$ROOT" ] || return 0
  if mountpoint -q "$ROOT$dir"; then "${sudo[@]}" umount "$ROOT$dir" && "${sudo[@]}" rmdir "$ROOT$dir" 2>/dev/null || true; fi
}

# proc and dev stay while any node's folder is mounted in the 4.0 root. Called once all nodes of a
# stop have stopped: nodes stopping side by side would each see the others still mounted.
unmount_root_if_idle() {
  # Where scripts/rabbitmq4-root.sh keeps it; not built here, a 3.10 stop must not build it.
  local root=${TASKRESULTS_RABBITMQ4_ROOT:-/var/cache/taskresults/rabbitmq-4.0}
  [ -d "$root" ] || return 0
  if ! findmnt -rn -o TARGET | grep -v -e "^$root/proc\$" -e "^$root/dev\$" | grep -q "^$root/"; then
    while mountpoint -q "$root/dev"; do "${sudo[@]}" umount "$root/dev" || break; done
    while mountpoint -q "$root/proc"; do "${sudo[@]}" umount "$root/proc" || break; done
  fi
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_for_port() {
  local port=$1 deadline=$((SECONDS + 60))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then echo "RabbitMQ did not open port $port within 60 s" >&2; return 1; fi
    sleep 0.2
  done
}

# Starting a node starts epmd when none runs; it would outlive the node. Ended only when idle,
# so another node on this machine keeps its name service.
stop_idle_epmd() {
  local pid
  pid=$(pgrep -x epmd) || return 0
  if ! epmd -names 2>/dev/null | grep -q '^name '; then kill "$pid" 2>/dev/null || true; fi
}

# A new node's folder: name, ports, config. The cookie is shared by a cluster's nodes.
init_node() {
  local dir=$1 version=$2 cookie=$3 port dist id
  mkdir -p "$dir/home" "$dir/mnesia" "$dir/log"
  port=$(free_port); dist=$(free_port)
  # Erlang node names take letters, digits, - and _ only (a dot in DIR's name would stop the node from starting).
  id="tr$$-$RANDOM-$(basename "$dir" | tr -c 'A-Za-z0-9_\n-' '_')"
  cat >"$dir/env" <<ENV
RABBITMQ_VERSION=$version
RABBITMQ_NODENAME=$id@localhost
RABBITMQ_NODE_PORT=$port
RABBITMQ_DIST_PORT=$dist
RABBITMQ_URI=amqp://guest:guest@127.0.0.1:$port/
ENV
  echo "[]." >"$dir/enabled_plugins"
  # guest may log in from loopback only, which is all this node listens on.
  echo "loopback_users.guest = true" >"$dir/rabbitmq.conf"
  # The same broker settings as the compose file's (deploy/rabbitmq).
  cp "$scripts/../deploy/rabbitmq/advanced.config" "$dir/advanced.config"
  printf '%s' "$cookie" >"$dir/home/.erlang.cookie"
  chmod 400 "$dir/home/.erlang.cookie"
  chmod 755 "$dir" "$dir/home"
}

start_node() {
  local dir=$1
  node_env "$dir"
  ensure_installed "$RABBITMQ_VERSION"
  [ -n "$ROOT" ] && { pgrep -x epmd >/dev/null || epmd -daemon; }
  mount_root_for "$dir"
  # Descriptors the caller holds (a flock, a pipe) must not live on in the daemon.
  rabbit rabbitmq-server -detached >/dev/null 2>&1 9>&- 8>&- 3>&- || true
  wait_for_port "$RABBITMQ_NODE_PORT"
  # The port opens before the node is fully booted: wait for the app itself.
  rabbit rabbitmqctl -n "$RABBITMQ_NODENAME" -q await_startup --timeout 60 >/dev/null
  write_pid_file
}

# DIR/node.pid: the node's OS process id, as stop and kill need it. Not RabbitMQ's own pid file,
# which it deletes whenever its application stops (join_cluster's stop_app, a restart after
# rejoining a cluster) and does not always write again: the node itself says.
write_pid_file() {
  rabbit rabbitmqctl -n "$RABBITMQ_NODENAME" -q eval 'os:getpid().' | tr -d '"\n' >"$NODE_PID_FILE.tmp"
  mv "$NODE_PID_FILE.tmp" "$NODE_PID_FILE"
}

stop_node() {
  local dir=$1
  [ -f "$dir/env" ] || return 0
  node_env "$dir"
  if [ -f "$NODE_PID_FILE" ] && kill -0 "$(cat "$NODE_PID_FILE")" 2>/dev/null; then
    rabbit rabbitmqctl -n "$RABBITMQ_NODENAME" -q stop "$NODE_PID_FILE" >/dev/null 2>&1 || kill -9 "$(cat "$NODE_PID_FILE")" 2>/dev/null || true
  fi
  unmount_root_for "$dir"
}

kill_node() {
  local dir=$1
  node_env "$dir"
  local pid
  pid=$(cat "$NODE_PID_FILE")
  kill -9 "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

# ---- one node or a cluster ------------------------------------------------------------------------

# Runs FUNCTION for each folder at once; fails if any of them failed.
for_each_node() {
  local function=$1 pids=() pid failed=0; shift
  for node in "$@"; do "$function" "$node" & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  return $failed
}

# The node folders DIR stands for: DIR itself, or a cluster's DIR/n1…
node_dirs() {
  local dir=$1
  [ -f "$dir/env" ] || { echo "$dir has no env: not started with scripts/rabbitmq.sh start" >&2; exit 2; }
  local nodes
  nodes=$(sed -n 's/^RABBITMQ_CLUSTER_NODES=//p' "$dir/env")
  if [ -z "$nodes" ]; then echo "$dir"; else tr ',' '\n' <<<"$nodes" | sed "s|^|$dir/|"; fi
}

start() {
  local dir=$1 count=$2 version=${RABBITMQ_VERSION:-3.10} cookie
  version_root "$version" >/dev/null
  mkdir -p "$dir"
  cookie=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
  if [ "$count" -eq 1 ]; then
    init_node "$dir" "$version" "$cookie"
    start_node "$dir"
    sed -n 's/^RABBITMQ_URI=//p' "$dir/env"
    return
  fi

  local names=() uris=() i seed
  for i in $(seq 1 "$count"); do
    init_node "$dir/n$i" "$version" "$cookie"
    names+=("n$i")
    uris+=("$(sed -n 's/^RABBITMQ_URI=//p' "$dir/n$i/env")")
  done
  # shellcheck disable=SC2046
  for_each_node start_node $(for i in $(seq 1 "$count"); do echo "$dir/n$i"; done)
  seed=$(sed -n 's/^RABBITMQ_NODENAME=//p' "$dir/n1/env")
  for i in $(seq 2 "$count"); do
    node_env "$dir/n$i"
    rabbit rabbitmqctl -n "$RABBITMQ_NODENAME" -q stop_app >/dev/null
    rabbit rabbitmqctl -n "$RABBITMQ_NODENAME" -q join_cluster "$seed" >/dev/null
    rabbit rabbitmqctl -n "$RABBITMQ_NODENAME" -q start_app >/dev/null
    write_pid_file
  done
  local joined; joined=$(IFS=,; echo "${uris[*]}")
  cat >"$dir/env" <<ENV
RABBITMQ_VERSION=$version
RABBITMQ_CLUSTER_NODES=$(IFS=,; echo "${names[*]}")
RABBITMQ_URI=${uris[0]}
RABBITMQ_URIS=$joined
ENV
  echo "$joined"
}

cmd=${1:-}
case "$cmd" in
  start)
    dir=$(realpath -m "${2:?usage: rabbitmq.sh start DIR [--nodes N]}")
    count=1
    if [ "${3:-}" = --nodes ]; then count=${4:?--nodes needs a number}; fi
    start "$dir" "$count"
    ;;
  stop)
    # shellcheck disable=SC2046
    for_each_node stop_node $(node_dirs "$(realpath -m "${2:?usage: rabbitmq.sh stop DIR}")")
    stop_idle_epmd
    unmount_root_if_idle
    ;;
  resume)
    # shellcheck disable=SC2046
    for_each_node start_node $(node_dirs "$(realpath -m "${2:?usage: rabbitmq.sh resume DIR}")")
    ;;
  restart)
    dir=$(realpath -m "${2:?usage: rabbitmq.sh restart DIR}")
    # shellcheck disable=SC2046
    for_each_node stop_node $(node_dirs "$dir")
    # shellcheck disable=SC2046
    for_each_node start_node $(node_dirs "$dir")
    ;;
  kill) kill_node "$(realpath -m "${2:?usage: rabbitmq.sh kill NODE_DIR}")" ;;
  ctl)
    dir=$(realpath -m "${2:?usage: rabbitmq.sh ctl DIR ARGS…}"); shift 2
    node_env "$(node_dirs "$dir" | head -1)"
    rabbit rabbitmqctl -n "$RABBITMQ_NODENAME" "$@"
    ;;
  *) echo "usage: $0 start DIR [--nodes N] | stop DIR | resume DIR | restart DIR | kill NODE_DIR | ctl DIR ARGS…" >&2; exit 2 ;;
esac
