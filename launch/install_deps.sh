#!/usr/bin/env bash
# launch/install_deps.sh — sourced by test.sh and demo.sh: installs the Debian packages vrf needs
# when any is missing (apt-get update first), as root or through sudo.
vrf_packages=(cmake g++ make clang-format libtorch-dev libopenmpi-dev openmpi-bin libhdf5-dev
  libboost-program-options-dev libgtest-dev nlohmann-json3-dev libbenchmark-dev
  python3 python3-h5py python3-numpy)  # python3-*: tests of the export and report (h5py snippet)

vrf_install_missing_packages() {
  local missing=() p sudo=""
  for p in "${vrf_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  echo "== installing: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "error: need root or sudo to install ${missing[*]}" >&2; return 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}
