#!/usr/bin/env bash
# The benchmark of issue 8, from a fresh clone: builds the service and the benchmark in Release,
# starts a private RabbitMQ node (and, in scenario 6, a private 3-node cluster) with fresh data
# directories, runs the nine scenarios against the real service process (bench/TaskResults.Benchmarks;
# scenarios 7 and 8 start their own redis-server, 9 an s3rver from .tools/npm: scripts/install-deps.sh),
# prints one table and writes docs/benchmarks.md; stops the brokers and everything else it started
# on the way out. RABBITMQ_VERSION=4.0 runs it on RabbitMQ 4.0 (the default is Debian 12's 3.10).
#
#   bench/run.sh           the issue's sizes (about 8 minutes on 2 cores)
#   bench/run.sh --quick   a smoke run with small sizes (about 1.5 minutes); writes no docs
#   bench/run.sh --only 1,3  only those scenarios (2 needs 1's service run and comes with it; 6 needs the cluster)
#   bench/run.sh --jobs N  scenario 1 with N jobs per case (writes no docs)
#   bench/run.sh --trial [--jobs N]  only the service's throughput at API 0 ms, limit 16: for trying a
#                          change; BENCH_SERVICE_X=v passes X=v to the service (e.g. OTEL_SDK_DISABLED=true)
set -euo pipefail
cd "$(dirname "$0")/.."

quick=()
trial=()
cluster=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=(--quick) ;;
    --only) trial+=(--only "${2:?--only needs a list like 1,3}"); [[ ",$2," == *,6,* ]] || cluster=; shift ;;
    --trial) trial+=(--trial); cluster= ;;
    --jobs) trial+=(--jobs "${2:?--jobs needs a number}"); shift ;;
    *) echo "usage: bench/run.sh [--quick] [--only 1,2,...] [--jobs N] [--trial]" >&2; exit 2 ;;
  esac
  shift
done

node_dir=$(mktemp -d /tmp/taskresults-bench.XXXXXX)
cluster_dir=$(mktemp -d /tmp/taskresults-bench-cluster.XXXXXX)
bench_pid=
cleanup() {
  if [ -n "$bench_pid" ] && kill -0 "$bench_pid" 2>/dev/null; then
    kill -TERM "$bench_pid" 2>/dev/null || true   # it kills the service processes it started
    wait "$bench_pid" 2>/dev/null || true
  fi
  [ -f "$cluster_dir/env" ] && { scripts/rabbitmq.sh stop "$cluster_dir" || true; }
  scripts/rabbitmq.sh stop "$node_dir" || true
  rm -rf "$node_dir" "$cluster_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -x /usr/bin/redis-server ] || { echo "redis-server is missing (scenario 7): run scripts/install-deps.sh" >&2; exit 2; }
[ -x .tools/npm/node_modules/.bin/s3rver ] || { echo "s3rver is missing (scenario 9): run scripts/install-deps.sh" >&2; exit 2; }

echo "== build (Release)" >&2
dotnet build -c Release -nologo -v quiet bench/TaskResults.Benchmarks >&2

echo "== RabbitMQ" >&2
scripts/rabbitmq.sh start "$node_dir" >&2
# Scenario 6 starts (and stops) the cluster itself, once the other scenarios are done.
cluster_args=()
if [ -n "$cluster" ]; then cluster_args=(--cluster-dir "$cluster_dir"); fi

# The quick run is a smoke test: its figures mean little, so it leaves the docs alone.
out=()
if [ ${#quick[@]} -eq 0 ] && [ ${#trial[@]} -eq 0 ]; then out=(--out docs/benchmarks.md); fi

echo "== benchmark" >&2
# In the background so that a signal reaches the trap above at once.
BENCH_DOTNET_SDK=$(dotnet --version) dotnet bench/TaskResults.Benchmarks/bin/Release/net10.0/TaskResults.Benchmarks.dll \
  --broker-dir "$node_dir" "${cluster_args[@]}" \
  --service-dll src/TaskResults.Service/bin/Release/net10.0/TaskResults.Service.dll \
  "${out[@]}" "${quick[@]}" "${trial[@]}" &
bench_pid=$!
wait "$bench_pid"
