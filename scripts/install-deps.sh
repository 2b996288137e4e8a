#!/usr/bin/env bash
# Debian packages the tests and local runs need; installs only what is missing.
set -euo pipefail
needed=()
for package in rabbitmq-server python3-pika docker-compose; do
  dpkg -s "$package" >/dev/null 2>&1 || needed+=("$package")
done
if [ ${#needed[@]} -gt 0 ]; then
  echo "Installing ${needed[*]}..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${needed[@]}" >/dev/null
fi
