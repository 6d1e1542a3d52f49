#!/usr/bin/env bash
# LossKit against the PyTorch peer (../shared/peers/torch_convnet_s.py) in one sitting: for each
# thread count, ROUNDS alternating runs of `losskit bench` and the peer, then the ratio
# LossKit / PyTorch per row (sums over the rounds), as recorded in docs/BENCHMARKS.md.
# Pause other jobs first: two processes on two cores halve both.
# Usage: scripts/bench.sh [THREADS ...]     (default: 2 1)
# Environment: PEER_PYTHON (default /tmp/torchpeer/bin/python), PEER_SCRIPT, ROUNDS (default 2),
# OUT (folder for the JSON files, default bench-results).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then threads=("$@"); else threads=(2 1); fi
py="${PEER_PYTHON:-/tmp/torchpeer/bin/python}"
peer="${PEER_SCRIPT:-../shared/peers/torch_convnet_s.py}"
rounds="${ROUNDS:-2}"
out="${OUT:-bench-results}"
if ! "$py" -c 'import torch' 2>/dev/null; then
    echo "no PyTorch at $py: python3 -m venv /tmp/torchpeer && /tmp/torchpeer/bin/pip install -q torch numpy (about 5 GB), or set PEER_PYTHON" >&2
    exit 2
fi
[ -f "$peer" ] || { echo "no peer script at $peer: set PEER_SCRIPT" >&2; exit 2; }
scripts/build.sh release > /dev/null
lk="$(swift build -c release --show-bin-path)/losskit"
mkdir -p "$out"
for t in "${threads[@]}"; do
    for r in $(seq 1 "$rounds"); do
        echo "threads $t, round $r: LossKit" >&2
        "$lk" bench --threads "$t" --rows ce,ce+nce,ce+swwae,inference --json "$out/losskit-t$t-r$r.json" > /dev/null
        echo "threads $t, round $r: PyTorch" >&2
        "$py" "$peer" --threads "$t" --json "$out/torch-t$t-r$r.json" > /dev/null
    done
done
"$py" - "$out" "$rounds" "${threads[@]}" <<'PY'
import json, sys
out, rounds, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
peer_row = {"ce": "ce", "ce+nce": "nce", "ce+swwae": "swwae", "inference": "inference"}
def rate(path, row):
    return json.load(open(path))["rows"][row]["images_per_s_median"]
print("| row | " + " | ".join(f"LossKit {t} thr | PyTorch {t} thr | ratio" for t in threads) + " |")
print("|---" * (1 + 3 * len(threads)) + "|")
for row, prow in peer_row.items():
    cells = []
    for t in threads:
        lk = [rate(f"{out}/losskit-t{t}-r{r}.json", row) for r in range(1, rounds + 1)]
        pt = [rate(f"{out}/torch-t{t}-r{r}.json", prow) for r in range(1, rounds + 1)]
        cells += [" / ".join(f"{x:.1f}" for x in lk), " / ".join(f"{x:.1f}" for x in pt), f"**{sum(lk) / sum(pt):.2f}×**"]
    print(f"| `{row}` | " + " | ".join(cells) + " |")
machine = json.load(open(f"{out}/losskit-t{threads[0]}-r1.json"))["machine"]
blas = machine["blas"]
print(f"\nCPU: {machine['cpu_model']} ({' '.join(machine['cpu_features'])})")
print(f"OpenBLAS core: {blas['core']} ({blas['chosen_by']}; {blas['before']} before); engine kernels: {machine['kernel_path']}")
f4 = machine["kernels"].get("winograd_f4_from")
tiles = "F(2×2) at every size" if f4 is None else f"F(4×4) from {f4}×{f4} outputs, F(2×2) below"
gemms = {"panel": "GEMMs on the engine's panel kernel (filter gradients on OpenBLAS)", "openblas": "GEMMs on OpenBLAS"}
print(f"Winograd: {tiles}; " + gemms.get(machine["kernels"].get("winograd_gemms"), "GEMMs on OpenBLAS"))
try:
    import torch
    print(f"PyTorch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()} kernels")
except Exception:
    pass
PY
