#!/usr/bin/env bash
# RabbitMQ 4.x on a Debian 12 machine without Docker: Debian 13's rabbitmq-server (4.0.5, Erlang 27)
# in a minimal Debian 13 root built with debootstrap from Debian's own mirror (about 70 s, ~500 MB,
# once per machine). Installing trixie's Erlang on the host would pull in a newer libc: don't.
# scripts/rabbitmq.sh runs nodes inside it (RABBITMQ_VERSION=4.0).
#
#   scripts/rabbitmq4-root.sh          builds the root if missing and prints its path
#
# The root lives in $TASKRESULTS_RABBITMQ4_ROOT (default /var/cache/taskresults/rabbitmq-4.0).
set -euo pipefail

root=${TASKRESULTS_RABBITMQ4_ROOT:-/var/cache/taskresults/rabbitmq-4.0}
mirror=${TASKRESULTS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)

if [ -f "$root/.taskresults-ready" ]; then echo "$root"; exit 0; fi

dpkg-query -W -f='${Status}' debootstrap 2>/dev/null | grep -q 'install ok installed' || {
  echo "Installing debootstrap..." >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
}

"${sudo[@]}" mkdir -p "$(dirname "$root")"
# One builder at a time; a second caller waits, then finds the root ready.
exec 9>"$root.lock"
flock 9
if [ -f "$root/.taskresults-ready" ]; then echo "$root"; exit 0; fi

echo "Building a Debian 13 root with RabbitMQ 4.0 in $root (about 70 s, once)..." >&2
"${sudo[@]}" rm -rf "$root"
"${sudo[@]}" debootstrap --variant=minbase trixie "$root" "$mirror" >"$root.log" 2>&1 \
  || { echo "debootstrap failed; see $root.log" >&2; exit 1; }
# The package must not start a node on the default ports while it installs.
printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$root/usr/sbin/policy-rc.d" >/dev/null
"${sudo[@]}" chmod +x "$root/usr/sbin/policy-rc.d"
# Node names are name@localhost: the root resolves localhost as the host does.
"${sudo[@]}" cp /etc/hosts "$root/etc/hosts"
"${sudo[@]}" chroot "$root" apt-get update -qq >>"$root.log" 2>&1
"${sudo[@]}" chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rabbitmq-server >>"$root.log" 2>&1 \
  || { echo "installing rabbitmq-server in $root failed; see $root.log" >&2; exit 1; }
"${sudo[@]}" chroot "$root" apt-get clean
"${sudo[@]}" touch "$root/.taskresults-ready"
echo "$root"
