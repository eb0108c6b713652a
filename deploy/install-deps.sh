#!/usr/bin/env bash
# install-deps.sh - installs the Debian packages toa needs to build, test and run.
# Idempotent: prints nothing and changes nothing when every package is present.
# Usage: deploy/install-deps.sh [--check] [--bench]
#   --check: exit 1 if something is missing, install nothing
#   --bench: also the benchmark tools (wrk, the plain load generator of make bench)
# TOA_DEPS_INSTALLER, when set, is the command run with the missing packages
# as arguments instead of sudo/apt-get (tests/integration/test_deploy.sh uses it).
set -euo pipefail

PACKAGES=(
  build-essential pkg-config
  libzmq3-dev libczmq-dev libcurl4-openssl-dev libmsgpack-dev libhiredis-dev
  libcmocka-dev libjansson-dev libmicrohttpd-dev
  redis-server redis-tools
  python3 python3-zmq python3-msgpack jq curl gnuplot-nox graphviz valgrind procps docker-compose
  iproute2 tcpdump
  clang libclang-rt-14-dev
)

check=""
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    --bench) PACKAGES+=(wrk) ;;
    *) echo "install-deps: unknown option $arg (--check, --bench)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

[ ${#missing[@]} -eq 0 ] && exit 0
if [ -n "$check" ]; then
  echo "missing packages: ${missing[*]}" >&2
  exit 1
fi

if [ -n "${TOA_DEPS_INSTALLER:-}" ]; then
  echo "install-deps: installing ${missing[*]} with $TOA_DEPS_INSTALLER" >&2
  $TOA_DEPS_INSTALLER "${missing[@]}"
  exit
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done" >&2
