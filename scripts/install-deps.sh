#!/usr/bin/env bash
# Installs every Debian package Bulwark needs to build, test and run (Debian 12).
# Works as root or through sudo; safe to run again.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libcaf-dev            # C++ Actor Framework 0.17 (core, io, openssl)
  liblmdb-dev lmdb-utils
  libmimalloc-dev       # the allocator of the bulwark program and the benchmarks
  libssl-dev openssl
  libspdlog-dev libfmt-dev
  doctest-dev
  nlohmann-json3-dev    # JSON for the console protocol and --json output
  libtomlplusplus-dev   # TOML configuration files
  libedit-dev           # line editing and history in `bulwark console`
  clang libclang-rt-14-dev  # libFuzzer run over the console protocol in the tests
  libcli11-dev          # command-line parsing and --help of `bulwark`
  libcpp-httplib-dev    # the node's HTTP API server (cpp-httplib, OpenSSL 3 TLS); test servers
  libcurl4-openssl-dev  # every HTTP client: http effectors and probes, the HTTP bench
  python3 python3-lmdb  # independent journal verifier used by the tests
  prometheus            # the real Prometheus (and promtool) of examples/ops-stack and its test
  lintian systemd       # the Debian package's test: lintian, systemd-analyze verify
  postgresql            # scripts/bench.sh --peers: a trigger-chained table beside the journal
  chromium chromium-driver python3-selenium  # the web dashboard's test in a headless browser
  etcd-server etcd-client   # the leader's lease for automatic failover, and its tests
  faketime              # libfaketime: the failover trials step a node's wall clock
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq
"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"
