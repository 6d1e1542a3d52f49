#!/usr/bin/env bash
# Installs what LossKit needs on a Debian machine: OpenBLAS, libffi, zlib, libpng, Open MPI
# (data-parallel training under mpirun) and iproute2 (its tests of two hosts), the Fashion-MNIST
# package, pkg-config (plugins built against an installed host), numpy (the tests' independent
# references) and qemu-user (the tests' emulated CPUs without AVX). Uses sudo when not run as root.
set -euo pipefail
packages=(libopenblas-dev libffi-dev zlib1g-dev libpng-dev libopenmpi-dev openmpi-bin iproute2 pkgconf dataset-fashion-mnist python3-numpy qemu-user)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    as_root=""
    [ "$(id -u)" -eq 0 ] || as_root="sudo"
    $as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq "${missing[@]}"
fi
command -v swift >/dev/null || { echo "error: swift is not on PATH (LossKit needs Swift 6)" >&2; exit 1; }
