#!/usr/bin/env bash
# Builds panel-gemm.swift with the engine's shipped panel kernel (its module import removed) for
# AVX2, as the AVX2 kernel build compiles it, and runs it on one OpenBLAS thread.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd) root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed '/^import LossKitKernelSupport$/d' "$root/Sources/LossKitKernels/PanelGemm.swift" > "$work/PanelGemm.swift"
cp "$root/Sources/LossKitKernelSupport/GemmPanels.swift" "$work/"
cp "$here/panel-gemm.swift" "$work/main.swift"   # top-level code: the driver is the module's main file
swiftc -Ounchecked -target-cpu haswell -module-name PanelGemmBench -I "$root/Sources/COpenBLAS" -lopenblas \
    "$work/main.swift" "$work/PanelGemm.swift" "$work/GemmPanels.swift" -o "$work/panel-gemm"
OPENBLAS_NUM_THREADS=1 "$work/panel-gemm"
