#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs (Debian packages, a Debian 13
# root for RabbitMQ 4.0, NuGet restore), validates docker-compose.yml, packs the contracts
# (scripts/pack.sh), runs the unit, consumer and CLI specs once, then the real-broker suite twice,
# on RabbitMQ 3.10 and on 4.0, each time against a private node and a private 3-node cluster on
# loopback, and stops them again. The job-registry specs start private redis-server processes
# (Debian's, installed by scripts/install-deps.sh) on loopback themselves; the jobs page's spec
# drives Debian's chromium through chromium-driver (installed there too) and keeps screenshots.
#
# The cluster scenarios run at CI size here (400 jobs, 20 s outages); their full size (1,000 jobs,
# 30 s) is the default of the specs themselves, or: TASKRESULTS_CLUSTER_JOBS=1000 TASKRESULTS_CLUSTER_OUTAGE_SECONDS=30 scripts/test.sh
# The registry scenarios run 200 jobs and a 10 s Redis outage; the issue's size: TASKRESULTS_REGISTRY_JOBS=2000 TASKRESULTS_REGISTRY_OUTAGE_SECONDS=30
# Extra arguments go to every dotnet test, e.g. --filter FullyQualifiedName~Client.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
export TASKRESULTS_CLUSTER_JOBS=${TASKRESULTS_CLUSTER_JOBS:-400}
export TASKRESULTS_CLUSTER_OUTAGE_SECONDS=${TASKRESULTS_CLUSTER_OUTAGE_SECONDS:-20}

echo "== docker-compose.yml"
# Its own line: under set -e, a failure on the left of && would not stop the script.
docker-compose -f docker-compose.yml config -q
docker-compose -f docker-compose.yml --profile cluster --profile simulator config -q
echo "valid"

echo "== RabbitMQ 4.0 root"
scripts/rabbitmq4-root.sh

work=$(mktemp -d /tmp/taskresults-test.XXXXXX)
stop_brokers() {
  for dir in "$work"/*/; do [ -f "$dir/env" ] && scripts/rabbitmq.sh stop "$dir"; done
  rm -rf "$work"
}
trap stop_brokers EXIT

# -m:1 runs the test projects one after another: the integration suite measures intervals and
# should not share two cores with the consumer specs.
echo "== dotnet build"
dotnet build TaskResults.sln -nologo -v quiet

echo "== TaskResults.Contracts package"
scripts/pack.sh

echo "== unit, consumer and CLI specs"
dotnet test TaskResults.sln --no-build -m:1 --filter "FullyQualifiedName!~TaskResults.IntegrationTests" "$@"

for version in 3.10 4.0; do
  echo "== RabbitMQ $version: a node and a 3-node cluster"
  node="$work/node-${version/./-}" cluster="$work/cluster-${version/./-}"
  RABBITMQ_VERSION=$version scripts/rabbitmq.sh start "$node"
  RABBITMQ_VERSION=$version scripts/rabbitmq.sh start "$cluster" --nodes 3
  echo "== RabbitMQ $version: real-broker suite"
  # Normal verbosity: each spec's name and duration, to see where the suite's minutes go.
  TASKRESULTS_RABBITMQ_DIR="$node" TASKRESULTS_RABBITMQ_CLUSTER_DIR="$cluster" \
    dotnet test tests/TaskResults.IntegrationTests --no-build --logger "console;verbosity=normal" "$@"
  scripts/rabbitmq.sh stop "$cluster"
  scripts/rabbitmq.sh stop "$node"
  rm -rf "$cluster" "$node"
done
# The jobs page as the browser spec saw it (the last suite's run): test artifacts, not committed.
echo "== screenshots of the jobs page: $(pwd)/test-results/screenshots"
ls test-results/screenshots 2>/dev/null || true
