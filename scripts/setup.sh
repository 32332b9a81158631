#!/usr/bin/env bash
# Installs everything lake needs on a fresh Debian/Ubuntu machine: Debian packages and the
# pinned DuckDB 1.4.4 from npm (cached outside the source tree). Idempotent; works as root
# and through sudo.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "error: run as root or install sudo" >&2; exit 1; }
  SUDO="sudo"
fi

PACKAGES=(build-essential cmake ninja-build pkg-config git ca-certificates openssl
  nodejs npm
  nlohmann-json3-dev libsimdjson-dev libroaring-dev libcli11-dev libsqlite3-dev
  libyaml-cpp-dev
  librdkafka-dev kcat
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come with the node installation rather than a Debian package.
if command -v npm >/dev/null && command -v node >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

"$here/fetch-duckdb.sh"
