#!/usr/bin/env bash
# The whole flow on this machine, with no API key, no network and no broker: builds, starts the
# AILabTools simulator on a free 127.0.0.1 port, runs the service's check command against it (the
# service's consumer, client and rescheduling on the in-memory bus), then stops the simulator.
# Exits with check's exit code. Arguments replace check's (job id patterns:
# src/TaskResults.Simulator/README.md):
#   scripts/demo.sh                                         # demo-1 --type GENERATE_CARTOONIZED_IMAGE --save /tmp/taskresults-demo
#   scripts/demo.sh fail-1 --type HD_COLOUR_MIGRATION
#   scripts/demo.sh demo-2 --type HD_COLOUR_MIGRATION --json
set -euo pipefail
cd "$(dirname "$0")/.."

check_args=("$@")
[ ${#check_args[@]} -gt 0 ] || check_args=(demo-1 --type GENERATE_CARTOONIZED_IMAGE --save "${TMPDIR:-/tmp}/taskresults-demo")
# Not a secret: the simulator accepts this key and no other.
demo_key=demo-key

# stdout is check's alone (it may be --json): everything else goes to stderr.
build() {
  local output
  output=$(dotnet build "$1" -nologo -v quiet 2>&1) || { echo "$output" >&2; exit 2; }
}
echo "== build" >&2
build src/TaskResults.Simulator
build src/TaskResults.Service

log=$(mktemp /tmp/taskresults-simulator.XXXXXX)
# Port 0: the system picks a free port, and the simulator prints which.
Urls=http://127.0.0.1:0 Simulator__ApiKey=$demo_key \
  dotnet src/TaskResults.Simulator/bin/Debug/net10.0/TaskResults.Simulator.dll >"$log" 2>&1 &
simulator=$!
trap 'kill "$simulator" 2>/dev/null; wait "$simulator" 2>/dev/null; rm -f "$log"' EXIT

url=""
for _ in $(seq 150); do
  url=$(sed -n 's/^AILabTools simulator listening on \(http:[^, ]*\).*/\1/p' "$log")
  [ -z "$url" ] || break
  if ! kill -0 "$simulator" 2>/dev/null; then cat "$log" >&2; echo "The simulator did not start." >&2; exit 2; fi
  sleep 0.2
done
[ -n "$url" ] || { cat "$log" >&2; echo "The simulator did not start within 30 s." >&2; exit 2; }

echo "== simulator at $url; check ${check_args[*]}" >&2
# --save fetches result files from the simulator: this machine, allowed here only.
AILabTools__BaseUrl=$url AILabTools__ApiKey=$demo_key Polling__Interval=00:00:01 Archive__AllowedHosts__0=127.0.0.1 \
  dotnet run --no-build --project src/TaskResults.Service -- check "${check_args[@]}"
