#!/usr/bin/env bash
# Data-parallel scaling on this machine: the same training as 1 process × 2 threads, 2 ranks ×
# 1 thread (mpirun) and 1 process × 1 thread, in one sitting, alternating, ROUNDS times. Prints
# each run's training images/s (the median of the logged windows after the first fifth: no
# start-up, no evaluation) and, for the ranks, the share of the step spent in the collectives
# (gradient all-reduce, term values, state averaging, and waiting for the other rank there).
# usage: scripts/bench-mpi.sh [LOSS ...]     (default: ce, 'ce + 0.5*nce')
#        STEPS=300 ROUNDS=2 LOSSKIT_BUILD=.build/release scripts/bench-mpi.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${LOSSKIT_BUILD:-.build/release}
steps=${STEPS:-300}
rounds=${ROUNDS:-2}
[ -x "$build/losskit" ] || { echo "error: no $build/losskit: run scripts/build.sh release first" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "error: mpirun is not installed (scripts/setup.sh installs Open MPI)" >&2; exit 1; }
losses=("$@")
[ ${#losses[@]} -gt 0 ] || losses=("ce" "ce + 0.5*nce")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "# $(nproc) cores; $(mpirun --version | head -1)"
"$build/losskit" --version | sed 's/^/# /'
echo "# $steps steps each, default batch; images/s (median of logged windows) and the collectives' share of the step"
printf '%-16s %-6s %-10s %s\n' loss layout images/s communication_share
summary() {
    python3 - "$1" <<'PY'
import json, statistics, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
steps = [l for l in lines if "images_per_s" in l]
kept = steps[len(steps) // 5:] or steps
rate = statistics.median(l["images_per_s"] for l in kept)
shares = [l["communication_share"] for l in kept if "communication_share" in l]
print(f"{rate:.1f} {statistics.median(shares):.3f}" if shares else f"{rate:.1f} -")
PY
}
for round in $(seq "$rounds"); do
    for loss in "${losses[@]}"; do
        for layout in 1x2 2x1 1x1; do
            ranks=${layout%x*} threads=${layout#*x}
            out="$work/run-$round-$layout"
            rm -rf "$out"
            args=(train --loss "$loss" --steps "$steps" --threads "$threads" --log-every 10 --checkpoint-every 100000 --out "$out")
            if [ "$ranks" -gt 1 ]; then
                mpirun --allow-run-as-root --oversubscribe -np "$ranks" "$build/losskit" "${args[@]}" >/dev/null
            else
                "$build/losskit" "${args[@]}" >/dev/null
            fi
            read -r rate share < <(summary "$out/metrics.jsonl")
            printf '%-16s %-6s %-10s %s\n' "$loss" "$layout" "$rate" "$share"
        done
    done
done
