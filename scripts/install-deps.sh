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
