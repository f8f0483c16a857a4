#!/usr/bin/env bash
# Installs the Debian 12 packages polyhost needs, only those that are missing.
# Runs as root, or through sudo when not root.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git python3
  libboost1.81-dev libboost-json1.81-dev libboost-filesystem1.81-dev libboost-url1.81-dev
  libtomlplusplus-dev libsoci-dev libsqlite3-dev sqlite3 libpq-dev
  libspdlog-dev prometheus-cpp-dev catch2 libssl-dev libcli11-dev
  libsecp256k1-dev libcrypto++-dev libsimdjson-dev
  postgresql python3-websockets prometheus
  clang libfuzzer-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
