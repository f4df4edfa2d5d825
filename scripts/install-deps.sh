#!/usr/bin/env bash
# Installs every system package f0mesh needs on Debian 12 (run as root). Idempotent: skips
# apt-get entirely when everything is already present.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config ninja-build clang clang-format libclang-rt-14-dev lld
  libssl-dev libnice-dev libglib2.0-dev libusrsctp-dev
  libboost-dev libboost-system-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libsqlite3-dev libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev
  chromium python3 python3-aiortc coturn wrk iproute2 iptables conntrack
  mmdebstrap systemd
)
# make image / test-container / deploy.sh only (podman is not needed by make test).
if [ "${1:-}" = "--containers" ]; then
  PKGS=(podman buildah crun netavark aardvark-dns uidmap mmdebstrap)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js (for the dashboard build and browser tests) may come from elsewhere; take Debian's only
# when none is on PATH, since Debian's npm conflicts with other nodejs builds.
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs npm); fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root or install them with apt-get" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
