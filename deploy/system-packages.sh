#!/usr/bin/env bash
# Makes sure the Debian packages named as arguments are installed: installs them with apt
# when run as root, otherwise says exactly what is missing.
set -euo pipefail

declare -A probe=(
  [postgresql]="ls /usr/lib/postgresql/*/bin/initdb"
  [pgbouncer]="command -v pgbouncer || test -x /usr/sbin/pgbouncer"
  [redis-server]="command -v redis-server"
  [nginx]="command -v nginx || test -x /usr/sbin/nginx"
  [chromium]="test -x /usr/bin/chromium"
  [wrk]="command -v wrk"
  [docker-compose]="command -v docker-compose"
  [kubectl]="command -v kubectl"
  [python3-venv]="${PYTHON:-python3} -c 'import ensurepip, venv'"
)
missing=()
for package in "$@"; do
  check=${probe[$package]:-"dpkg -s $package"}
  bash -c "$check" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts the packaged services on install; Quill runs its own throwaway ones.
  exit 0
fi
echo "Missing system packages: ${missing[*]}" >&2
echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
exit 1
