"""Histogram task (Fig. 1): the batched trainer against the paper's one-model loop.

Side by side in one run, on the same data and seeds, Adam, batch 32:
- `paper loop`: one `nn.Module` per seed, torch.optim.Adam, `loss.backward()`, one step at a
  time (timed on `--paper-models` of the seeds; the per-model time is the same for each);
- `batched`: all M models (half `semantic`, half `positional`) as one model with stacked
  weights (`attnphase.histogram.train`), on CUDA also without CUDA graphs (`--no-graphs`).
Reported: wall and process-CPU ms per step of all M models (on a shared machine the CPU
time is what a quiet core would take), the speed-up (wall), the rate in GFLOP/s counted with the
issue's ~45 MFLOP per model and step of batch 32 (the plain model's count; the batched model
does fewer, see docs/histogram.md) against the machine's limit (`--limit-gflops`, default
55 per CPU core), and the implied paper-scale wall times.

    PYTHONPATH=src python benchmarks/bench_histogram.py [--device cpu] [--models 20]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from attnphase.histogram.model import Arch, HistogramTransformer, init_params, qk_mask, stack
from attnphase.histogram.task import make_data
from attnphase.histogram.train import Job, OptimSpec, paper_loop, train

FLOP_PER_MODEL_STEP = 45e6  # the count for the plain model, batch 32 (fwd + bwd)
FIG1_STEPS = 200 * 35000 / 32  # 200 epochs of 35,000 sequences
STABILITY_STEPS = 100 * 35000 / 32


def variants(M: int) -> list[str]:
    return ["semantic" if i % 2 == 0 else "positional" for i in range(M)]


def batched_ms(data, arch: Arch, M: int, steps: int, device: str,
               graphs: bool) -> tuple[float, float]:
    """Wall and process-CPU ms per step of M models trained together (after 20 warm-up
    steps)."""
    vs = variants(M)
    params = {k: v.to(device) for k, v in stack([init_params(arch, i) for i in range(M)]).items()}
    masks = torch.stack([qk_mask(arch, v) for v in vs]).to(device)
    job = Job(params, masks, list(range(M)), [np.arange(len(data.x_train))] * M)
    args = (data.x_train, data.y_train, OptimSpec(), 20, 32, [], data.x_val, data.y_val)
    train(job, *args, graphs=graphs, progress=False)
    _sync(device)
    start, cpu = time.perf_counter(), time.process_time()
    train(job, data.x_train, data.y_train, OptimSpec(), steps, 32, [], data.x_val, data.y_val,
          graphs=graphs, progress=False)
    _sync(device)
    return ((time.perf_counter() - start) / steps * 1e3,
            (time.process_time() - cpu) / steps * 1e3)


def paper_ms(data, arch: Arch, models: int, steps: int, device: str) -> tuple[float, float]:
    """Wall and process-CPU ms per step of one model in the paper's loop (mean over seeds)."""
    total = cpu = 0.0
    for seed, v in zip(range(models), variants(models), strict=True):
        model = HistogramTransformer(arch, init_params(arch, seed), v).to(device)
        paper_loop(model, data.x_train, data.y_train, seed, 10, 32, OptimSpec())
        _sync(device)
        start, cpu0 = time.perf_counter(), time.process_time()
        paper_loop(model, data.x_train, data.y_train, seed, steps, 32, OptimSpec())
        _sync(device)
        total += time.perf_counter() - start
        cpu += time.process_time() - cpu0
    return total / (models * steps) * 1e3, cpu / (models * steps) * 1e3


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--models", type=int, default=20, help="models trained together (Fig. 1: 20)")
    p.add_argument("--transition-models", type=int, default=70,
                   help="models of the transition study's one job (7 sizes x 10 seeds)")
    p.add_argument("--steps", type=int, default=200, help="timed steps of the batched trainer")
    p.add_argument("--paper-steps", type=int, default=100, help="timed steps per paper loop")
    p.add_argument("--paper-models", type=int, default=2, help="seeds timed in the paper loop")
    p.add_argument("--n-sequences", type=int, default=5000)
    p.add_argument("--threads", type=int, default=1, help="torch threads on CPU")
    p.add_argument("--limit-gflops", type=float, default=55.0,
                   help="machine limit in GFLOP/s (default: one CPU core on these shapes)")
    p.add_argument("--no-graphs", action="store_true", help="CUDA: also time without graphs")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    data = make_data(10, 15, args.n_sequences, 0.7, 0).to(args.device)
    arch = Arch()
    wall, cpu = paper_ms(data, arch, args.paper_models, args.paper_steps, args.device)
    rows = {"paper loop": (args.models * wall, args.models * cpu)}
    rows["batched"] = batched_ms(data, arch, args.models, args.steps, args.device, True)
    if args.device == "cuda" and args.no_graphs:
        rows["batched, no graphs"] = batched_ms(data, arch, args.models, args.steps,
                                                args.device, False)
    t_tr = batched_ms(data, arch, args.transition_models, args.steps, args.device, True)[0]
    name = torch.cuda.get_device_name() if args.device == "cuda" else f"cpu x{args.threads}"
    print(f"device: {name}; {args.models} models (half semantic, half positional), batch 32, "
          f"L = 10, T = 15, d_model 64, hidden 128, Adam")
    print("| trainer | ms per step (all models) | CPU ms per step | speed-up | GFLOP/s "
          "(45 MFLOP/model-step) | of limit | Fig. 1 + stability, h |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    out = {"device": name, "models": args.models}
    for key, (ms, cpu_ms) in rows.items():
        rate = args.models * FLOP_PER_MODEL_STEP / (ms * 1e-3) / 1e9
        hours = (FIG1_STEPS + STABILITY_STEPS) * ms * 1e-3 / 3600
        print(f"| {key} | {ms:.2f} | {cpu_ms:.2f} | {rows['paper loop'][0] / ms:.1f}x | "
              f"{rate:.1f} | {rate / args.limit_gflops:.0%} | {hours:.2f} |")
        out[key] = {"ms_per_step": ms, "cpu_ms_per_step": cpu_ms, "gflops": rate,
                    "fig1_stability_h": hours}
    tr_h = 50000 * t_tr * 1e-3 / 3600
    print(f"transition job: {args.transition_models} models, {t_tr:.2f} ms per step; "
          f"50,000 steps = {tr_h:.2f} h")
    out["transition"] = {"models": args.transition_models, "ms_per_step": t_tr, "hours": tr_h}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
