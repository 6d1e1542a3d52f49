#!/usr/bin/env bash
# The README's main job: builds LossKit and runs a short semi-supervised training on
# Fashion-MNIST (100 labels per class, ce + NCE), printing its test accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh release
out="runs/demo-$(date +%Y%m%d-%H%M%S)"
.build/release/losskit train --data fashion-mnist --encoder convnet-s --loss "${LOSS:-ce + 0.1*nce(negatives=0)}" \
    --labels-per-class 100 --steps "${STEPS:-300}" --threads "${THREADS:-2}" --out "$out"
