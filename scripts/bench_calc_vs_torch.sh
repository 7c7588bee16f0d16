#!/usr/bin/env bash
# Candle against PyTorch on the same patches with the same weights (CPU, 2 threads).
# 1. `mammoscope bench calc --export DIR` times the whole detector per preset and exports, per preset, its weights,
#    the 224 px breast patches of a 4096 × 3328 mammogram (the non-overlapping grid) and candle's logits;
# 2. scripts/bench_calc_torch.py runs the same architecture in PyTorch on those patches (checking the logits agree);
# 3. the ratio candle / PyTorch of the inference time per patch is printed.
# Needs the PyTorch venv: see scripts/requirements-bench-torch.txt (three commands).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-.cache/bench-calc}
PY=${PYTHON:-.venv-torch/bin/python}
[ -x "$PY" ] || { echo "no PyTorch venv at $PY: see scripts/requirements-bench-torch.txt" >&2; exit 2; }
cargo build --release --quiet
./target/release/mammoscope bench calc --runs 3 --stride 224 --export "$DIR" | tee "$DIR.candle.txt"
echo
printf '%-10s %14s %14s %8s %s\n' preset "candle infer ms/p" "torch ms/p" ratio "logits agree"
for preset in compact resnet18 resnet50; do
  candle=$(awk -v p="$preset" '$1 == p { print $6 }' "$DIR.candle.txt")
  json=$("$PY" scripts/bench_calc_torch.py --weights "$DIR/$preset-weights.safetensors" --patches "$DIR/$preset-patches.safetensors" \
    --threads 2 --batch 16 --repeats 3 --json | tail -n 1)
  torch=$(echo "$json" | "$PY" -c 'import json,sys; print(f"{json.load(sys.stdin)[\"ms_per_patch\"]:.1f}")')
  agree=$(echo "$json" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["logits_agree"])')
  ratio=$("$PY" -c "print(f'{$candle / $torch:.2f}')")
  printf '%-10s %14s %14s %8s %s\n' "$preset" "$candle" "$torch" "$ratio" "$agree"
done
