#!/usr/bin/env bash
# Installs the Debian 12 packages Tacet needs to build, test and run.
# A fast no-op when everything is already present; uses sudo when not root.
set -euo pipefail

packages=(
  g++ cmake make pkg-config tzdata
  libboost-dev libboost-test-dev
  librocksdb-dev libcereal-dev libspdlog-dev libssl-dev
  libphonenumber-dev libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
  libzip-dev libhowardhinnant-date-dev libre2-dev libprotobuf-dev libjemalloc-dev
  libsystemd-dev
  clang libclang-rt-14-dev  # make fuzz: libFuzzer and the sanitizers' runtimes
  openssl                   # cli_tests runs the README's OpenSSL recipe
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
