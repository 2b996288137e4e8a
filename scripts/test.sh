#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs (Debian packages, NuGet
# restore), starts a private RabbitMQ node on loopback, runs every test project against it and
# the fake API on 127.0.0.1, validates docker-compose.yml, and stops the node again.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== docker-compose.yml"
# Its own line: under set -e, a failure on the left of && would not stop the script.
docker-compose -f docker-compose.yml config -q
echo "valid"

node_dir=$(mktemp -d /tmp/taskresults-rabbitmq.XXXXXX)
trap 'scripts/rabbitmq.sh stop "$node_dir"; rm -rf "$node_dir"' EXIT
echo "== RabbitMQ"
scripts/rabbitmq.sh start "$node_dir"

echo "== dotnet test"
# -m:1 runs the test projects one after another: the integration suite measures intervals and
# should not share two cores with the consumer specs.
TASKRESULTS_RABBITMQ_DIR="$node_dir" dotnet test TaskResults.sln -m:1 "$@"
