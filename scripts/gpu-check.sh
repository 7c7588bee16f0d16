#!/bin/bash
# The device check of a CUDA build (scripts/build-cuda.sh), as run on an NVIDIA H200:
#  1. calcification and denoiser inference on the sample study, on the GPU and on the CPU (CUDA_VISIBLE_DEVICES=),
#     with the largest probability difference;
#  2. speed: `bench denoise --speed 512` and `bench calc` on the GPU;
#  3. the paper's denoiser (`train denoise --preset paper`) trained for the time left: a 30-step probe times a step,
#     then one cosine cycle sized to fit LIMIT seconds in all.
# Binary: $MAMMOSCOPE, else .gpu/mammoscope.xz (a compressed copy carried to a remote machine), else
# target/release/mammoscope. Output: $OUT (default .cache/gpu-check): log.txt, the paper weights and their log.
cd "$(dirname "$0")/.."
LIMIT=${LIMIT:-540}
OUT=${OUT:-.cache/gpu-check}
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
set -x
M=${MAMMOSCOPE:-}
if [[ -z $M && -f .gpu/mammoscope.xz ]]; then
  M=/tmp/mammoscope
  python3 -c "import lzma,shutil;shutil.copyfileobj(lzma.open('.gpu/mammoscope.xz'),open('$M','wb'))" && chmod +x $M
fi
M=${M:-target/release/mammoscope}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
# CUDA 13 libraries from PyTorch's wheels when no toolkit is on the library path.
SP=$(python3 -c 'import site;print(site.getsitepackages()[0])' 2>/dev/null)
export LD_LIBRARY_PATH=$SP/nvidia/cu13/lib:/usr/local/cuda/lib64:/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}:$PWD/.gpu/lib
ldd $M | grep -E "not found|cuda|cublas|curand|nvrtc"
S=assets/samples/L_CC.dcm
T=$(mktemp -d)
timeout 60 $M analyze calc $S --json >$T/calc-gpu.json
CUDA_VISIBLE_DEVICES= timeout 60 $M analyze calc $S --json >$T/calc-cpu.json
python3 - "$T" <<'PY'
import json, sys
probs = lambda p: [q['prob'] for q in json.load(open(p))['images'][0]['patches']]
g, c = probs(sys.argv[1] + '/calc-gpu.json'), probs(sys.argv[1] + '/calc-cpu.json')
print('calc patches', len(g), len(c), 'max |gpu - cpu| prob', max((abs(a - b) for a, b in zip(g, c)), default=None))
PY
timeout 90 $M analyze denoise $S --dose 0.2 --out $T/d-gpu.png --json
CUDA_VISIBLE_DEVICES= timeout 90 $M analyze denoise $S --dose 0.2 --out $T/d-cpu.png --json
timeout 60 $M bench denoise --speed 512
timeout 90 $M bench calc
echo "elapsed before training: $SECONDS s"
W=$T/train
mkdir -p $W/probe $W/main
T0=$SECONDS
timeout 150 $M train denoise --preset paper --batch 64 --steps 30 --checkpoint-every 30 --work-dir $W/probe --out $W/probe/p.safetensors
T1=$SECONDS
cp $W/probe/crops-* $W/main/
DATA=$(python3 -c "import json;print(json.load(open('$W/probe/p.train.json'))['data_seconds'])" 2>/dev/null || echo 0)
LEFT=$((LIMIT - SECONDS - 25))
STEPS=$(python3 -c "s=max(($T1-$T0-$DATA)/31,0.05); print(int(max(100,($LEFT-15)/s*0.85)))")
echo "probe $((T1 - T0)) s (data $DATA s); left $LEFT s -> $STEPS steps"
timeout $LEFT $M train denoise --preset paper --batch 64 --steps $STEPS --checkpoint-every $(((STEPS + 3) / 4)) --work-dir $W/main --out $OUT/denoise-paper.safetensors
cp $W/main/progress-paper.json $OUT/ 2>/dev/null
echo "total $SECONDS s"
