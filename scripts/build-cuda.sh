#!/usr/bin/env bash
# Builds the release binary with the `cuda` feature (candle's CUDA kernels, cuBLAS, cuRAND).
#
# With a CUDA toolkit installed (nvcc on PATH, or CUDA_HOME set) it uses that one. Without one, it assembles a
# CUDA 13.0 build toolkit from NVIDIA's PyPI wheels in .cache/cuda-toolkit (nvcc, headers, CCCL, cuBLAS, cuRAND,
# NVRTC, the CUDA runtime) and links against a stub libcuda.so.1 made from cudarc's driver API list; the real driver
# library is loaded at run time. That is how the binary checked on an NVIDIA H200 (driver 580) was built, on a
# machine without a GPU.
#
#   scripts/build-cuda.sh                 # target/release/mammoscope with CUDA
#   CUDA_COMPUTE_CAP=80 scripts/build-cuda.sh   # PTX for another GPU generation (default 90: Hopper)
#
# Running it needs the NVIDIA driver and libcublas.so.13, libcublasLt.so.13, libcurand.so.10 and libcudart.so.13 on
# the library path (a CUDA 13 toolkit, or PyTorch's cu13 wheels: site-packages/nvidia/cu13/lib).
set -euo pipefail
cd "$(dirname "$0")/.."

export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-90}
if [[ -z ${CUDA_HOME:-} ]] && ! command -v nvcc >/dev/null; then
  root=$PWD/.cache/cuda-toolkit
  if [[ ! -x $root/bin/nvcc ]]; then
    echo "no CUDA toolkit found: assembling CUDA 13.0 from PyPI wheels into $root"
    wheels=$root.wheels
    mkdir -p "$wheels"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
      --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$wheels" \
      "nvidia-cuda-nvcc==13.0.*" "nvidia-cuda-runtime==13.0.*" "nvidia-cuda-crt==13.0.*" "nvidia-nvvm==13.0.*" \
      "nvidia-cuda-cccl==13.0.*" "nvidia-cublas==13.0.*" "nvidia-curand==10.4.0.*" "nvidia-cuda-nvrtc==13.0.*"
    unpacked=$root.unpacked
    rm -rf "$unpacked" "$root"
    for w in "$wheels"/*.whl; do python3 -m zipfile -e "$w" "$unpacked"; done
    mv "$unpacked/nvidia/cu13" "$root"
    rm -rf "$unpacked"
    chmod +x "$root"/bin/* "$root"/nvvm/bin/*
    (cd "$root/lib" && for l in cublas cublasLt nvrtc cudart; do ln -sf "lib$l.so.13" "lib$l.so"; done && ln -sf libcurand.so.10 libcurand.so)
    # Link-time stand-in for the driver library: every cu* entry point cudarc declares, as an empty function.
    registry=$(cargo metadata --format-version 1 --locked --features cuda | python3 -c \
      'import json,sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"]=="cudarc"))')
    mkdir -p "$root/lib/stubs"
    grep -o 'pub unsafe fn cu[A-Za-z0-9_]*' "$(dirname "$registry")/src/driver/sys/mod.rs" | awk '{print "void "$4"(void){}"}' |
      sort -u >"$root/lib/stubs/cuda_stub.c"
    cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$root/lib/stubs/libcuda.so" "$root/lib/stubs/cuda_stub.c"
  fi
  export CUDA_HOME=$root PATH=$root/bin:$PATH
  export LIBRARY_PATH=$root/lib:$root/lib/stubs${LIBRARY_PATH:+:$LIBRARY_PATH}
fi
export CUDA_PATH=${CUDA_PATH:-${CUDA_HOME:-}}
cargo build --release --locked --features cuda "$@"
echo "built target/release/mammoscope with CUDA (compute capability $CUDA_COMPUTE_CAP)"
