#!/usr/bin/env python3
"""SciPy reference for `mammoscope bench lowpass`: forward FFT + ideal low-pass mask + inverse FFT.

Usage: bench_lowpass_scipy.py PATH ROWS COLS SPACING CUTOFF RUNS

PATH is a raw little-endian float32 file of ROWS x COLS values (row-major); SPACING is the pixel spacing in mm,
either one number or ROW_MM,COL_MM; CUTOFF is R in cycles/mm. Each run times scipy.fft.rfft2 (workers=2), the
multiplication by the precomputed ideal mask |f| <= R, and scipy.fft.irfft2 (workers=2), on the unpadded image.
Prints one JSON object: {"scipy": version, "numpy": version, "runs_ms": [...], "median_ms", "min_ms", "max_ms"}.
"""

import json
import sys
import time

import numpy as np
import scipy
import scipy.fft


def main() -> None:
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    path, rows, cols, spacing, cutoff, runs = sys.argv[1:]
    rows, cols, runs, cutoff = int(rows), int(cols), int(runs), float(cutoff)
    row_mm, col_mm = (float(s) for s in spacing.split(",")) if "," in spacing else (float(spacing),) * 2
    image = np.fromfile(path, dtype="<f4").reshape(rows, cols)

    fy = scipy.fft.fftfreq(rows, d=row_mm)[:, None]
    fx = scipy.fft.rfftfreq(cols, d=col_mm)[None, :]
    mask = (fx * fx + fy * fy <= cutoff * cutoff).astype(np.float32)

    times = []
    out = None
    for _ in range(runs):
        start = time.perf_counter()
        spectrum = scipy.fft.rfft2(image, workers=2)
        spectrum *= mask
        out = scipy.fft.irfft2(spectrum, s=image.shape, workers=2)
        times.append((time.perf_counter() - start) * 1e3)
    assert out is not None and out.shape == image.shape and out.dtype == np.float32
    times_sorted = sorted(times)
    print(
        json.dumps(
            {
                "scipy": scipy.__version__,
                "numpy": np.__version__,
                "runs_ms": times,
                "median_ms": float(np.median(times_sorted)),
                "min_ms": times_sorted[0],
                "max_ms": times_sorted[-1],
            }
        )
    )


if __name__ == "__main__":
    main()
