#!/usr/bin/env python3
"""PyTorch (CPU) mirror of Mammoscope's candle microcalcification patch classifier, for timing and parity checks.

It rebuilds the network of a weights file (preset ``compact``, ``resnet18`` or ``resnet50``), loads our weights
strictly, checks its logits against the candle model's (when the patches file carries them) and times eval-mode
inference on the same patches.

Usage
-----
    python scripts/bench_calc_torch.py --weights W.safetensors --patches P.safetensors \
        [--threads 2] [--batch 32] [--repeats 5] [--json] [--tol 1e-3] [--preset P] [--channels-last] [--stages]

* ``W.safetensors``: our weights, f16 or f32 (cast to f32 here); metadata ``preset`` = compact|resnet18|resnet50
  (``--preset`` only where the metadata lacks it). Tensors named ``dec.*`` (the training-only decoder) are ignored.
* ``P.safetensors``: ``patches`` f32 (N,1,224,224) and, optionally, ``logits`` f32 (N,) = the candle model's
  eval-mode logits. With them it prints the max abs / relative logit difference and exits 2 when a logit differs
  by more than ``tol * max(1, |candle logit|)``.
* Timing: ``torch.set_num_threads(threads)``, ``torch.inference_mode()``, one warm-up pass, then ``repeats`` timed
  passes over all patches in batches of ``batch``. Prints the per-pass seconds, the median and ms per patch; with
  ``--json`` the last line of stdout is one JSON object with the keys preset, patches, batch, threads, median_s,
  ms_per_patch, max_abs_logit_diff (null without candle logits) and torch_version (and a few extra ones).

Test helpers (random data, no candle needed):

    python scripts/bench_calc_torch.py --make-random-weights /tmp/w.safetensors --preset compact [--dtype f16]
    python scripts/bench_calc_torch.py --make-random-patches /tmp/p.safetensors --n 64 [--weights W]
        (with --weights it also stores this torch model's logits as "logits": a self-check of the parity path)

Installing a CPU PyTorch from PyPI without the CUDA wheels
---------------------------------------------------------
PyPI's Linux x86_64 ``torch`` wheel (~540 MB) is built with CUDA and its default dependencies pull ~3+ GB of
``nvidia-*`` / ``cuda-toolkit`` / ``triton`` wheels; the CPU-only builds live on download.pytorch.org, which is not
reachable here. What works (tested with torch 2.15.0, CPython 3.11, Debian 12; see
scripts/requirements-bench-torch.txt for the pins):

    python3 -m venv .venv-torch
    .venv-torch/bin/pip install --no-deps -r scripts/requirements-bench-torch.txt   # ~570 MB download
    .venv-torch/bin/python scripts/bench_calc_torch.py --make-cuda-stubs   # needs readelf and cc (binutils, gcc)

``--no-deps`` is essential (without it pip pulls the CUDA wheels): the requirements file pins torch and the whole
closure of its CPU-side dependencies (filelock, typing_extensions, setuptools, sympy, mpmath, networkx, Jinja2,
MarkupSafe, fsspec) plus numpy and safetensors. ``pip check`` then reports the absent cuda-toolkit / nvidia-* /
triton requirements; that is expected. The venv takes ~1.4 GB on disk (torch 1.2 GB).

Without the last step ``import torch`` fails (``libcudart.so.13: cannot open shared object file`` and then
``ValueError: libcublasLt.so.*[0-9] not found in the system path``): libtorch_cpu.so, libtorch_cuda.so,
libtorch_python.so ... are linked against the CUDA libraries (cudart, cublas, cudnn, cupti, nccl, nvshmem, ...).
``--make-cuda-stubs`` reads (with readelf) which CUDA libraries and symbols torch's shared objects need, and
compiles tiny stub libraries with the same sonames, symbol versions and symbols into the CUDA runtime wheel's
folder on torch's RPATH (site-packages/nvidia/cu13/lib, listed in its MAMMOSCOPE_CUDA_STUBS.txt). Every stub function returns an error (cudaErrorNoDevice = 100), so
``torch.cuda.is_available()`` is False and everything CPU works. It does not import torch, and it never overwrites a
real library: only sonames that nothing on the search path provides get a stub. Rerun it after changing torch.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import re
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

PATCH = 224
PRESETS = ("compact", "resnet18", "resnet50")


# --------------------------------------------------------------------------------------------------------------------
# CUDA stub libraries (no torch import here)
# --------------------------------------------------------------------------------------------------------------------


def _readelf(args: list[str], path: Path) -> str:
    return subprocess.run(["readelf", "-W", *args, str(path)], check=True, capture_output=True, text=True).stdout


def _dynamic(path: Path) -> tuple[list[str], list[str]]:
    out = _readelf(["-d"], path)
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)
    rpath = re.findall(r"\((?:RPATH|RUNPATH)\)\s+Library r(?:un)?path: \[([^\]]*)\]", out)
    return needed, (rpath[0].split(":") if rpath else [])


def _version_files(path: Path) -> dict[str, str]:
    """Version name -> library file name, from the object's version-needs section."""
    res: dict[str, str] = {}
    cur = None
    for line in _readelf(["-V"], path).splitlines():
        m = re.search(r"Version: \d+\s+File: (\S+)", line)
        if m:
            cur = m.group(1)
            continue
        m = re.search(r"Name: (\S+)\s+Flags:", line)
        if m and cur:
            res[m.group(1)] = cur
    return res


def _dynsyms(path: Path):
    """Yields (name, version or None, type, bind, undefined) for each dynamic symbol."""
    for line in _readelf(["--dyn-syms"], path).splitlines():
        p = line.split()
        if len(p) < 8 or not p[0].endswith(":") or not p[0][:-1].isdigit():
            continue
        name, ver = p[7], None
        if "@" in name:
            name, _, ver = name.partition("@")
            ver = ver.lstrip("@")
        yield name, ver, p[3], p[4], p[6] == "UND"


def _stem(lib: str) -> str:
    return lib.removeprefix("lib").split(".so")[0].lower()


_STRING_RET = re.compile(r"(ErrorString|ErrorName|StatusString|StatusName|GetString)$")


def make_cuda_stubs(cc: str = "cc") -> Path:
    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        sys.exit("torch is not installed in this interpreter")
    torch_dir = Path(spec.origin).parent
    lib_dir = torch_dir / "lib"
    # libcaffe2_nvrtc.so is dlopen()ed only for CUDA JIT; it also needs the driver (libcuda.so.1): leave it alone.
    objs = [p for p in sorted(lib_dir.glob("*.so*")) if p.is_file() and p.name != "libcaffe2_nvrtc.so"]
    objs += sorted(torch_dir.glob("_C*.so"))
    ldconf: dict[str, str] = {}
    for line in subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout.splitlines():
        m = re.match(r"\s+(\S+) \(([^)]*)\) => (\S+)", line)
        if m and "x86-64" in m.group(2):
            ldconf.setdefault(m.group(1), m.group(3))
    present = {p.name: p for p in lib_dir.iterdir() if p.is_file()}
    stub_marker = "MAMMOSCOPE_CUDA_STUBS.txt"
    # The stubs go to the CUDA runtime wheel's folder on torch's RPATH (site-packages/nvidia/cu13/lib).
    _, rp = _dynamic(lib_dir / "libtorch_cpu.so")
    rp_dirs = [Path(d.replace("$ORIGIN", str(lib_dir))).resolve() for d in rp]
    out_dir = next((d for d in rp_dirs if re.search(r"/nvidia/cu\d+/lib$", str(d))), lib_dir)
    ours = set()  # stubs from an earlier run: rebuilt, not taken for real libraries
    if (out_dir / stub_marker).exists():
        ours = {ln.strip() for ln in (out_dir / stub_marker).read_text().splitlines() if ln.startswith("lib")}
    info: dict[Path, tuple[list[str], list[Path]]] = {}
    missing: set[str] = set()
    for o in objs:
        needed, rpath = _dynamic(o)
        dirs = [Path(d.replace("$ORIGIN", str(o.parent))).resolve() for d in rpath]
        info[o] = (needed, dirs)
        for n in needed:
            if n in present or n in ldconf or any((d / n).exists() and not (d == out_dir and n in ours) for d in dirs):
                continue
            if out_dir not in dirs:
                sys.exit(f"{o.name} needs {n}, which is missing, and {out_dir} is not in its RPATH")
            missing.add(n)
    if not missing:
        print("nothing to stub: every library torch needs is found")
        return out_dir
    # Symbols already provided: torch's own libraries, the system libraries they need, and the Python executable.
    providers = list(present.values())
    for needed, _ in info.values():
        providers += [Path(ldconf[n]) for n in needed if n in ldconf and n not in present]
    providers.append(Path(sys.executable).resolve())
    libpy = sysconfig.get_config_var("LDLIBRARY")
    libdir = sysconfig.get_config_var("LIBDIR")
    if libpy and libdir and (Path(libdir) / libpy).exists() and ".so" in libpy:
        providers.append(Path(libdir) / libpy)
    defined: set[str] = set()
    for f in set(providers):
        try:
            defined.update(name for name, _, _, _, und in _dynsyms(f) if not und)
        except subprocess.CalledProcessError:
            pass
    stubs: dict[str, dict[str, tuple[str | None, str]]] = {n: {} for n in missing}
    versions: dict[str, set[str]] = {n: set() for n in missing}
    for o, (needed, _) in info.items():
        vfiles = _version_files(o)
        for v, f in vfiles.items():
            if f in missing:
                versions[f].add(v)
        miss_here = [n for n in needed if n in missing]
        for name, ver, typ, bind, und in _dynsyms(o):
            if not und or not name or bind == "WEAK":
                continue
            if ver is not None:
                if vfiles.get(ver) in missing:
                    stubs[vfiles[ver]][name] = (ver, typ)
            elif name not in defined and miss_here and not name.startswith(("Py", "_Py")):
                # Unversioned: give it to the missing library whose name is the longest prefix of the symbol.
                best = max(miss_here, key=lambda lib: len(_stem(lib)) if name.lower().startswith(_stem(lib)) else -1)
                stubs[best].setdefault(name, (None, typ))
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for lib in sorted(missing):
            syms = stubs[lib]
            src = ['static const char stub_msg[] = "CUDA is unavailable (Mammoscope CPU stub library)";']
            for name in sorted(syms):
                typ = syms[name][1]
                if typ == "OBJECT":
                    src.append(f"char {name}[4096] __attribute__((aligned(64)));")
                elif name in ("cudaGetDeviceCount", "cudaDriverGetVersion", "cudaRuntimeGetVersion"):
                    src.append(f"int {name}(int *n) {{ if (n) *n = 0; return 100; }}")
                elif _STRING_RET.search(name):
                    src.append(f"const char *{name}(void) {{ return stub_msg; }}")
                else:
                    src.append(f"long {name}(void) {{ return 100; }}")
            vers = sorted(versions[lib] | {v for v, _ in syms.values() if v})
            nodes = []
            for j, v in enumerate(vers):
                names = [s for s, (sv, _) in syms.items() if sv == v or (sv is None and j == 0)]
                if not names:
                    dummy = f"mammoscope_stub_{re.sub(r'[^A-Za-z0-9_]', '_', v)}"
                    src.append(f"int {dummy}(void) {{ return 0; }}")
                    names = [dummy]
                body = " ".join(f"{s};" for s in sorted(names))
                nodes.append(f"{v} {{ global: {body} " + ("local: *; " if j == 0 else "") + "};")
            c_path = Path(tmp) / f"{lib}.c"
            c_path.write_text("\n".join(src) + "\n")
            cmd = [cc, "-shared", "-fPIC", "-O1", "-w", "-o", str(out_dir / lib), f"-Wl,-soname,{lib}", str(c_path)]
            if nodes:
                map_path = Path(tmp) / f"{lib}.map"
                map_path.write_text("\n".join(nodes) + "\n")
                cmd.insert(-1, f"-Wl,--version-script={map_path}")
            subprocess.run(cmd, check=True)
            print(f"stub {out_dir / lib}: {len(syms)} symbols, versions {vers or '-'}")
    (out_dir / stub_marker).write_text(
        "Stub CUDA libraries written by Mammoscope's scripts/bench_calc_torch.py --make-cuda-stubs so that the\n"
        "CUDA build of torch imports on a machine without the nvidia-* wheels. Every function fails (no device).\n"
        "Delete this folder's stub .so files before installing the real nvidia-* wheels.\n"
        + "".join(f"{lib}\n" for lib in sorted(missing))
    )
    return out_dir


# --------------------------------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------------------------------


def build_model(preset: str):
    import torch
    from torch import nn

    def blur_matrix(n: int, sigma: float):
        """src/models/speck_contrast.rs blur_matrix: out[j] = sum_i x[i] M[i, j], 3-sigma Gaussian, edges replicated."""
        r = math.ceil(3.0 * sigma)
        taps = [math.exp(-(t * t) / (2.0 * sigma * sigma)) for t in range(-r, r + 1)]
        total = sum(taps)
        m = torch.zeros(n, n, dtype=torch.float64)
        for j in range(n):
            for k, t in zip(taps, range(-r, r + 1)):
                m[min(max(j + t, 0), n - 1), j] += k / total
        return m.to(torch.float32)

    class SpeckContrast(nn.Module):
        """The compact net's fixed front end (src/models/speck_contrast.rs): clamp(DoG / local RMS, -8, 8) / 4."""

        def __init__(self):
            super().__init__()
            self.cache = {}

        def mats(self, n):
            if n not in self.cache:
                self.cache[n] = [blur_matrix(n, s) for s in (1.0, 3.0, 15.0)]
            return self.cache[n]

        def forward(self, x):
            h, w = x.shape[-2:]
            mh, mw = self.mats(h), self.mats(w)

            def blur(v, i):
                return mh[i].t() @ (v @ mw[i])

            dog = blur(x, 0) - blur(x, 1)
            rms = torch.sqrt(blur(dog * dog, 2) + 1e-6)
            return torch.clamp(dog / rms, -8.0, 8.0) * 0.25

    class ConvBnRelu(nn.Module):
        def __init__(self, cin: int, cout: int, k: int, stride: int, pad: int):
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, k, stride, pad, bias=False)
            self.bn = nn.BatchNorm2d(cout, eps=1e-5)

        def forward(self, x):
            return torch.relu(self.bn(self.conv(x)))

    class Compact(nn.Module):
        def __init__(self):
            super().__init__()
            self.front = SpeckContrast()
            self.enc = nn.Sequential(
                ConvBnRelu(2, 16, 5, 2, 2),
                ConvBnRelu(16, 32, 3, 2, 1),
                ConvBnRelu(32, 32, 3, 1, 1),
                ConvBnRelu(32, 64, 3, 2, 1),
            )
            self.head = nn.Sequential(
                ConvBnRelu(64, 64, 3, 1, 1),
                ConvBnRelu(64, 128, 3, 2, 1),
                ConvBnRelu(128, 128, 3, 1, 1),
            )
            self.fc = nn.Linear(128, 1)

        def forward(self, x):
            f = self.head(self.enc(torch.cat([x, self.front(x)], dim=1)))
            return self.fc(f.amax(dim=(2, 3))).squeeze(1)

    def bn(c):
        return nn.BatchNorm2d(c, eps=1e-5)

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, cin, planes, stride, downsample):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
            self.bn1 = bn(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = bn(planes)
            self.downsample = downsample

        def forward(self, x):
            idt = x if self.downsample is None else self.downsample(x)
            out = torch.relu(self.bn1(self.conv1(x)))
            return torch.relu(self.bn2(self.conv2(out)) + idt)

    class Bottleneck(nn.Module):
        expansion = 4

        def __init__(self, cin, planes, stride, downsample):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, planes, 1, 1, 0, bias=False)
            self.bn1 = bn(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)  # v1.5: stride on the 3x3
            self.bn2 = bn(planes)
            self.conv3 = nn.Conv2d(planes, planes * 4, 1, 1, 0, bias=False)
            self.bn3 = bn(planes * 4)
            self.downsample = downsample

        def forward(self, x):
            idt = x if self.downsample is None else self.downsample(x)
            out = torch.relu(self.bn1(self.conv1(x)))
            out = torch.relu(self.bn2(self.conv2(out)))
            return torch.relu(self.bn3(self.conv3(out)) + idt)

    class ResNet(nn.Module):
        def __init__(self, block, layers):
            super().__init__()
            self.inplanes = 64
            self.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
            self.bn1 = bn(64)
            self.relu = nn.ReLU()
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            self.layer1 = self._layer(block, 64, layers[0], 1)
            self.layer2 = self._layer(block, 128, layers[1], 2)
            self.layer3 = self._layer(block, 256, layers[2], 2)
            self.layer4 = self._layer(block, 512, layers[3], 2)
            self.fc = nn.Linear(512 * block.expansion, 1)

        def _layer(self, block, planes, blocks, stride):
            down = None
            if stride != 1 or self.inplanes != planes * block.expansion:
                down = nn.Sequential(
                    nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, 0, bias=False),
                    bn(planes * block.expansion),
                )
            mods = [block(self.inplanes, planes, stride, down)]
            self.inplanes = planes * block.expansion
            mods += [block(self.inplanes, planes, 1, None) for _ in range(1, blocks)]
            return nn.Sequential(*mods)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(x.mean(dim=(2, 3))).squeeze(1)

    if preset == "compact":
        return Compact()
    if preset == "resnet18":
        return ResNet(BasicBlock, [2, 2, 2, 2])
    if preset == "resnet50":
        return ResNet(Bottleneck, [3, 4, 6, 3])
    sys.exit(f"unknown preset {preset!r} (expected one of {', '.join(PRESETS)})")


def load_weights(path: str, preset_override: str | None):
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(path, framework="pt") as f:
        meta = f.metadata() or {}
    preset = (meta.get("preset") or preset_override or "").strip().lower()
    if not preset:
        sys.exit(f"{path}: no 'preset' in the safetensors metadata; pass --preset")
    if preset_override and preset_override != preset:
        sys.exit(f"{path}: metadata preset {preset!r} differs from --preset {preset_override!r}")
    tensors = load_file(path)
    skipped = [k for k in tensors if k.startswith("dec.")]
    sd = {k: v.to(torch.float32) for k, v in tensors.items() if not k.startswith("dec.")}
    model = build_model(preset)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    bad_missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if bad_missing or unexpected:
        sys.exit(f"{path}: state dict mismatch for {preset}: missing {bad_missing}, unexpected {list(unexpected)}")
    model.eval()
    dtypes = sorted({str(v.dtype).removeprefix("torch.") for k, v in tensors.items() if not k.startswith("dec.")})
    return model, preset, len(sd), len(skipped), dtypes


def print_stages(model, batch, runs: int) -> None:
    """Median ms of each stage of the compact net (front end, each conv layer, pooling + fc) on one batch, in
    inference mode; the first pass is a warm-up. Mirrors `mammoscope bench calc --stages`."""
    import torch

    stages = [("front (speck contrast)", lambda x: torch.cat([x, model.front(x)], dim=1))]
    stages += [(f"enc.{i}", layer) for i, layer in enumerate(model.enc)]
    stages += [(f"head.{i}", layer) for i, layer in enumerate(model.head)]
    stages += [("max pool + fc", lambda f: model.fc(f.amax(dim=(2, 3))).squeeze(1))]
    times = [[] for _ in stages]
    with torch.inference_mode():
        for r in range(runs + 1):
            x = batch
            for k, (_, f) in enumerate(stages):
                t0 = time.perf_counter()
                x = f(x)
                if r > 0:
                    times[k].append(time.perf_counter() - t0)
    print(f"compact stages, batch of {batch.shape[0]} (median of {runs} passes):")
    total = 0.0
    for (name, _), t in zip(stages, times):
        median = 1000.0 * statistics.median(t)
        total += median
        print(f"  {name:<24} {median:>8.2f} ms")
    print(f"  {'sum':<24} {total:>8.2f} ms")


def run_batches(model, patches, batch: int):
    import torch

    outs = [model(patches[i : i + batch]) for i in range(0, patches.shape[0], batch)]
    return torch.cat(outs)


# --------------------------------------------------------------------------------------------------------------------
# Random test data
# --------------------------------------------------------------------------------------------------------------------


def make_random_weights(out: str, preset: str, dtype: str, seed: int) -> None:
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    model = build_model(preset)
    sd = {}
    for k, v in model.state_dict().items():
        if k.endswith("num_batches_tracked"):
            continue
        if k.endswith("running_mean"):
            t = 0.1 * torch.randn_like(v)
        elif k.endswith("running_var"):
            t = 0.5 + torch.rand_like(v)
        elif ".bn" in k or "downsample.1" in k or k.startswith("bn"):
            t = (0.5 + torch.rand_like(v)) if k.endswith("weight") else 0.1 * torch.randn_like(v)
        elif v.dim() == 4:  # conv: He init
            fan_in = v[0].numel()
            t = torch.randn_like(v) * (2.0 / fan_in) ** 0.5
        elif k == "fc.weight":
            t = torch.randn_like(v) / v.shape[1] ** 0.5
        else:
            t = 0.1 * torch.randn_like(v)
        sd[k] = t.to(torch.float16 if dtype == "f16" else torch.float32).contiguous()
    if preset == "compact":  # a stand-in for the training-only decoder, which the benchmark must ignore
        sd["dec.0.conv.weight"] = torch.randn(32, 64, 3, 3).to(sd["fc.weight"].dtype)
    save_file(sd, out, metadata={"preset": preset})
    print(f"wrote {out}: preset {preset}, {len(sd)} tensors, {dtype}")


def make_random_patches(out: str, n: int, seed: int, weights: str | None, batch: int) -> None:
    import torch
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(seed)
    patches = torch.rand(n, 1, PATCH, PATCH, generator=g)
    tensors = {"patches": patches.contiguous()}
    if weights:
        model, preset, *_ = load_weights(weights, None)
        with torch.inference_mode():
            tensors["logits"] = run_batches(model, patches, batch).contiguous()
    save_file(tensors, out)
    print(f"wrote {out}: {n} patches" + (" + logits" if weights else ""))


# --------------------------------------------------------------------------------------------------------------------
# Benchmark
# --------------------------------------------------------------------------------------------------------------------


def bench(args) -> int:
    import torch
    from safetensors.torch import load_file

    torch.set_num_threads(args.threads)
    model, preset, n_tensors, n_dec, dtypes = load_weights(args.weights, args.preset)
    data = load_file(args.patches)
    if "patches" not in data:
        sys.exit(f"{args.patches}: no tensor named 'patches'")
    patches = data["patches"].to(torch.float32).contiguous()
    if args.channels_last:  # (an NCHW tensor with C=1 is already NHWC in memory; the weights are what changes)
        model = model.to(memory_format=torch.channels_last)
        patches = patches.contiguous(memory_format=torch.channels_last)
    if patches.dim() != 4 or tuple(patches.shape[1:]) != (1, PATCH, PATCH):
        sys.exit(f"{args.patches}: patches must be (N,1,{PATCH},{PATCH}), got {tuple(patches.shape)}")
    n = patches.shape[0]
    candle = data.get("logits")
    say = print if not args.json else (lambda *a, **k: print(*a, **k, file=sys.stderr))
    say(
        f"torch {torch.__version__} on CPU, {torch.get_num_threads()} thread(s); preset {preset} "
        f"({n_tensors} tensors {','.join(dtypes)}, {n_dec} dec.* ignored); {n} patches, batch {args.batch}"
        + (", channels_last" if args.channels_last else "")
    )

    if args.stages:
        if preset != "compact":
            sys.exit("--stages times the compact preset only")
        print_stages(model, patches[:16], 5 * args.repeats)
        return 0

    per_pass = []
    with torch.inference_mode():
        t0 = time.perf_counter()
        logits = run_batches(model, patches, args.batch)
        say(f"warm-up pass: {time.perf_counter() - t0:.3f} s")
        for r in range(args.repeats):
            t0 = time.perf_counter()
            run_batches(model, patches, args.batch)
            per_pass.append(time.perf_counter() - t0)
            say(f"pass {r + 1}/{args.repeats}: {per_pass[-1]:.3f} s")
    median = statistics.median(per_pass) if per_pass else float("nan")
    ms_per_patch = 1000.0 * median / n
    say(f"median {median:.3f} s per pass = {ms_per_patch:.2f} ms per patch ({1000.0 / ms_per_patch:.1f} patches/s); "
        f"fastest pass {min(per_pass):.3f} s = {1000.0 * min(per_pass) / n:.2f} ms per patch")

    max_abs = max_rel = None
    agree = None
    if candle is not None:
        candle = candle.to(torch.float32).reshape(-1)
        if candle.shape[0] != n:
            sys.exit(f"{args.patches}: {candle.shape[0]} logits for {n} patches")
        diff = (logits - candle).abs()
        max_abs = float(diff.max())
        max_rel = float((diff / candle.abs().clamp_min(1.0)).max())
        agree = max_rel <= args.tol
        say(
            f"logits vs candle: max abs diff {max_abs:.3g}, max rel diff {max_rel:.3g} "
            f"(|d| / max(1, |candle|)); candle logits in [{float(candle.min()):.3g}, {float(candle.max()):.3g}]"
            f" -> {'AGREE' if agree else 'DISAGREE'} at tol {args.tol:g}"
        )
    else:
        say(f"no 'logits' in {args.patches}: parity not checked; torch logits in "
            f"[{float(logits.min()):.3g}, {float(logits.max()):.3g}]")
    if args.json:
        print(json.dumps({
            "preset": preset,
            "patches": n,
            "batch": args.batch,
            "threads": args.threads,
            "median_s": median,
            "ms_per_patch": ms_per_patch,
            "max_abs_logit_diff": max_abs,
            "torch_version": torch.__version__,
            "max_rel_logit_diff": max_rel,
            "logits_agree": agree,
            "per_pass_s": per_pass,
            "min_ms_per_patch": 1000.0 * min(per_pass) / n,
            "channels_last": args.channels_last,
        }))
    return 0 if agree in (None, True) else 2


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", help="our weights (.safetensors, metadata preset=compact|resnet18|resnet50)")
    ap.add_argument("--patches", help="patches file (.safetensors: patches (N,1,224,224) f32 [+ logits (N,)])")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print a JSON summary as the last stdout line")
    ap.add_argument("--stages", action="store_true", help="time the compact net stage by stage on 16 patches, then exit")
    ap.add_argument("--channels-last", action="store_true", help="run in torch.channels_last (default: NCHW)")
    ap.add_argument("--tol", type=float, default=1e-3, help="max |torch - candle| / max(1, |candle|) (default 1e-3)")
    ap.add_argument("--preset", choices=PRESETS, help="preset for --make-random-weights, or where metadata lacks it")
    ap.add_argument("--make-random-weights", metavar="OUT", help="write random weights for --preset and exit")
    ap.add_argument("--dtype", choices=("f16", "f32"), default="f16", help="dtype of --make-random-weights")
    ap.add_argument("--make-random-patches", metavar="OUT", help="write --n random patches (+ logits with --weights)")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--make-cuda-stubs", action="store_true", help="compile CUDA stub libs so CUDA torch imports")
    ap.add_argument("--cc", default="cc", help="C compiler for --make-cuda-stubs")
    args = ap.parse_args()

    if args.make_cuda_stubs:
        make_cuda_stubs(args.cc)
        return 0
    if args.make_random_weights:
        if not args.preset:
            ap.error("--make-random-weights needs --preset")
        make_random_weights(args.make_random_weights, args.preset, args.dtype, args.seed)
        return 0
    if args.make_random_patches:
        make_random_patches(args.make_random_patches, args.n, args.seed, args.weights, args.batch)
        return 0
    if not args.weights or not args.patches:
        ap.error("--weights and --patches are required")
    if args.threads < 1 or args.batch < 1 or args.repeats < 1:
        ap.error("--threads, --batch and --repeats must be >= 1")
    return bench(args)


if __name__ == "__main__":
    if "--make-cuda-stubs" not in sys.argv:  # (building stubs must not load the old ones)
        try:
            import torch  # noqa: F401  (fail early, with a hint)
        except (ImportError, OSError, ValueError) as e:
            sys.exit(
                f"import torch failed: {e}\nIf it is a missing CUDA library (libcudart, libcublasLt...), run\n"
                f"  {sys.executable} {sys.argv[0]} --make-cuda-stubs\n(see the docstring of this script)"
            )
    sys.exit(main())
