#!/usr/bin/env bash
# One row of docs/RESULTS.md under protocol P1 or P2 (../shared/METHODS.md): the same loss over
# several seeds, JOBS runs at a time with one thread each, into runs/<p1|p2>-NAME-SEED. A seed
# whose folder holds a finished run is skipped, an interrupted one is resumed (--resume goes on
# bit for bit). Ends with each seed's test accuracy and the command for the comparison page.
# usage: scripts/protocol.sh P1|P2 NAME 'LOSS' [SEED ...]      (seeds: 0 1 2)
#        JOBS=2 LOSSKIT_BUILD=.build/release scripts/protocol.sh P2 aet 'ce + 1*aet'
#        FLAGS='--init-from runs/p2-nce-pre' scripts/protocol.sh P2 nce-ft ce   (fine-tuning rows)
#   P1: 100 labels per class, 1500 steps; P2: 10 labels per class, 4700 steps; the rest default.
#   FLAGS: more `losskit train` options for every seed, split on spaces.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
protocol=$1 name=$2 loss=$3
shift 3
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(0 1 2)
case "$protocol" in
    P1) flags=(--labels-per-class 100 --steps 1500) ;;
    P2) flags=(--labels-per-class 10 --steps 4700) ;;
    *) echo "error: the protocol is P1 or P2, got '$protocol'" >&2; exit 2 ;;
esac
read -r -a extra <<< "${FLAGS:-}"
flags+=("${extra[@]}")
[[ "$name" =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "error: NAME is a folder-name part (letters, digits, . _ -), got '$name'" >&2; exit 2; }
build=${LOSSKIT_BUILD:-.build/release}
[ -x "$build/losskit" ] || { echo "error: no $build/losskit: run scripts/build.sh release first" >&2; exit 1; }
jobs=${JOBS:-$(nproc)}
prefix="runs/$(echo "$protocol" | tr 'A-Z' 'a-z')-$name"
mkdir -p runs

accuracy() { grep -o '"test_accuracy":[0-9.eE+-]*' "$1/metrics.jsonl" 2>/dev/null | tail -1 | cut -d: -f2; }

run_seed() {
    local seed=$1 out="$prefix-$1"
    if [ -n "$(accuracy "$out")" ]; then echo "seed $seed: finished before ($out)"; return 0; fi
    local resume=()
    [ -f "$out/checkpoint.safetensors" ] && resume=(--resume)
    echo "seed $seed: training into $out${resume:+ (resuming)}"
    "$build/losskit" train --loss "$loss" "${flags[@]}" --threads 1 --seed "$seed" --out "$out" "${resume[@]}" > "$out.log" 2>&1 \
        || { echo "seed $seed: failed, see $out.log" >&2; return 1; }
}

status=0
running=0
for seed in "${seeds[@]}"; do
    run_seed "$seed" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then wait -n || status=1; running=$((running - 1)); fi
done
while [ "$running" -gt 0 ]; do wait -n || status=1; running=$((running - 1)); done

echo "$protocol '$loss':"
for seed in "${seeds[@]}"; do
    a=$(accuracy "$prefix-$seed")
    if [ -n "$a" ]; then awk -v s="$seed" -v a="$a" 'BEGIN { printf "  seed %s: %.2f %%\n", s, 100 * a }'; else echo "  seed $seed: no accuracy (see $prefix-$seed.log)"; fi
done
echo "compare with ce and the other methods: $build/losskit report runs/$(echo "$protocol" | tr 'A-Z' 'a-z')-*"
exit $status
