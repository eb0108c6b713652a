#!/usr/bin/env bash
# install-deps.sh - installs the Debian packages toa needs to build, test and run.
# Idempotent: prints nothing and changes nothing when every package is present.
# Usage: deploy/install-deps.sh [--check] [--bench] [--compose] [--build]
#   --check: exit 1 if something is missing, install nothing
#   --bench: also the benchmark tools (wrk, the plain load generator of make bench)
#   --compose: also what `make compose-test` needs to run deploy/docker-compose.yml
#              for real: podman (runc, netavark, aardvark-dns for service names)
#              and debootstrap (the base image is made locally, nothing is pulled)
#   --build: only what compiling the programs needs (deploy/Dockerfile's build stage)
# TOA_DEPS_ARGS, when set, is read as more options before the command line's
# (the Dockerfile sets --build there so that make's own check asks for no more).
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
BUILD_PACKAGES=(
  build-essential pkg-config
  libzmq3-dev libczmq-dev libcurl4-openssl-dev libmsgpack-dev libhiredis-dev
  libcmocka-dev libjansson-dev libmicrohttpd-dev
)
COMPOSE_PACKAGES=(
  podman runc crun netavark aardvark-dns slirp4netns uidmap fuse-overlayfs
  debootstrap docker-compose iproute2
)

check=""
extra=() more=()
# shellcheck disable=SC2206 # TOA_DEPS_ARGS is a list of options
[ -n "${TOA_DEPS_ARGS:-}" ] && extra=(${TOA_DEPS_ARGS})
for arg in "${extra[@]}" "$@"; do
  case "$arg" in
    --check) check=1 ;;
    --bench) more+=(wrk) ;;
    --compose) more+=("${COMPOSE_PACKAGES[@]}") ;;
    --build) PACKAGES=("${BUILD_PACKAGES[@]}") ;;
    *) echo "install-deps: unknown option $arg (--check, --bench, --compose, --build)" >&2; exit 2 ;;
  esac
done
PACKAGES+=("${more[@]}")

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
