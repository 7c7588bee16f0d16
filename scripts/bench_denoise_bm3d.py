#!/usr/bin/env python3
"""BM3D reference for `mammoscope bench denoise` (Dabov et al. 2007, the `bm3d` package from PyPI).

Usage: bench_denoise_bm3d.py DIR
Reads every DIR/*.noisy.npy (Anscombe-domain images with unit-variance noise, written by the benchmark), runs
bm3d.bm3d(z, sigma_psd=1.0) (both stages, the package's default profile), writes DIR/<name>.bm3d.npy and
DIR/bm3d-timings.json ({name: seconds}). The Anscombe forward and inverse transforms are done by the benchmark in Rust,
exactly as for the other methods.
"""
import glob
import json
import os
import sys
import time

import numpy as np

try:
    import bm3d
except ImportError:
    sys.exit("bm3d is not installed: python3 -m pip install bm3d")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    folder = sys.argv[1]
    timings = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.noisy.npy"))):
        name = os.path.basename(path)[: -len(".noisy.npy")]
        z = np.load(path).astype(np.float64)
        start = time.perf_counter()
        out = bm3d.bm3d(z, sigma_psd=1.0)
        timings[name] = time.perf_counter() - start
        np.save(os.path.join(folder, name + ".bm3d.npy"), np.asarray(out, dtype="<f4"))
        print(f"bm3d {name}: {timings[name]:.2f} s", file=sys.stderr)
    with open(os.path.join(folder, "bm3d-timings.json"), "w") as f:
        json.dump(timings, f, indent=1)


if __name__ == "__main__":
    main()
