#!/usr/bin/env bash
# Debian packages the tests and local runs need; installs only what is missing.
set -euo pipefail
needed=()
for package in rabbitmq-server python3-pika docker-compose redis-server chromium chromium-driver; do
  # "install ok installed", not merely known to dpkg (a removed package keeps its config).
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || needed+=("$package")
done
if [ ${#needed[@]} -gt 0 ]; then
  echo "Installing ${needed[*]}..."
  sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${needed[@]}" >/dev/null
fi

# The archive's stores for the real-server specs (issue 15): an S3 server and Azure's own storage emulator,
# from npm with the machine's Node.js, into .tools/npm of this checkout (not committed).
tools="$(cd "$(dirname "$0")/.." && pwd)/.tools/npm"
if [ ! -x "$tools/node_modules/.bin/s3rver" ] || [ ! -x "$tools/node_modules/.bin/azurite-blob" ]; then
  command -v npm >/dev/null || { echo "npm is missing: the archive specs need Node.js and npm (s3rver, azurite)" >&2; exit 1; }
  echo "Installing s3rver and azurite into $tools..."
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error s3rver@3.7.1 azurite@3.37.0 >/dev/null
fi
