"""Training many histogram models at once, and the paper's one-model loop as reference.

`train` steps M models with stacked weights together: one batched forward and backward per
step, and an elementwise optimizer (Adam or SGD) over the few stacked tensors, which is the
same per-model update as M separate optimizers. Each model draws its own batches: a stream of
reshuffled epochs of its own pool of training sequences (`batch_indices`), a function of the
model's seed and the step alone, so that a run can stop and resume anywhere and the same seed
sees the same batches in `paper_loop`. On CUDA the whole step is captured once as a CUDA graph
and replayed (launch overhead dominates models this small).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm import tqdm

from .model import NAMES, HistogramTransformer, Params, forward, losses, qkv_mask

CHUNK = 256  # steps whose batch indices are made (and sent to the device) at once


@dataclass(frozen=True)
class OptimSpec:
    """Adam (lr, betas, eps as torch.optim.Adam) or plain SGD."""

    kind: str = "adam"
    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.98
    eps: float = 1e-8


class Optimizer:
    """Adam or SGD over stacked tensors, with the step count on the device (graph-safe)."""

    def __init__(self, params: list[torch.Tensor], spec: OptimSpec) -> None:
        self.params, self.spec = params, spec
        self.m = [torch.zeros_like(p) for p in params] if spec.kind == "adam" else []
        self.v = [torch.zeros_like(p) for p in params] if spec.kind == "adam" else []
        self.t = torch.zeros((), dtype=torch.float64, device=params[0].device)

    def state(self) -> list[torch.Tensor]:
        return [*self.m, *self.v, self.t]

    @torch.no_grad()
    def step(self, grads: Sequence[torch.Tensor]) -> None:
        s = self.spec
        self.t += 1
        if s.kind == "sgd":
            torch._foreach_add_(self.params, grads, alpha=-s.lr)
            return
        torch._foreach_lerp_(self.m, grads, 1 - s.beta1)
        torch._foreach_mul_(self.v, s.beta2)
        torch._foreach_addcmul_(self.v, grads, grads, value=1 - s.beta2)
        bc1 = 1 - torch.pow(s.beta1, self.t)
        bc2_sqrt = torch.sqrt(1 - torch.pow(s.beta2, self.t))
        denom = torch._foreach_sqrt(self.v)
        torch._foreach_div_(denom, bc2_sqrt)
        torch._foreach_add_(denom, s.eps)
        upd = torch._foreach_div(self.m, denom)
        torch._foreach_mul_(upd, (s.lr / bc1).to(self.params[0].dtype))
        torch._foreach_sub_(self.params, upd)


def epoch_perm(seed: int, epoch: int, n: int) -> np.ndarray:
    """The order of a model's pool in one epoch: a function of (seed, epoch) alone."""
    return np.random.default_rng([int(seed), int(epoch), 0xB47C]).permutation(n)


def batch_indices(seed: int, n: int, batch: int, start: int, count: int) -> np.ndarray:
    """Pool positions of steps start..start+count-1, shape (count, batch).

    The stream is the concatenation of epoch permutations, cut into batches of `batch`
    (a batch may straddle two epochs when batch does not divide n).
    """
    pos = np.arange(start * batch, (start + count) * batch, dtype=np.int64)
    epochs, offsets = np.divmod(pos, n)
    out = np.empty_like(pos)
    for e in np.unique(epochs):
        sel = epochs == e
        out[sel] = epoch_perm(seed, int(e), n)[offsets[sel]]
    return out.reshape(count, batch)


@dataclass
class Job:
    """M models trained together: stacked weights, q/k masks (M, d), data seeds and pools.

    `pools[i]` holds the indices (into the training sequences) that model i trains on.
    """

    params: Params
    masks: torch.Tensor
    seeds: list[int]
    pools: list[np.ndarray]

    @property
    def M(self) -> int:
        return len(self.seeds)


@dataclass
class Curves:
    """Per evaluation point: the step, and per model the mean training loss since the last
    point, the validation loss and accuracy (arrays of shape (points, M))."""

    step: list[int] = field(default_factory=list)
    train_loss: list[list[float]] = field(default_factory=list)
    val_loss: list[list[float]] = field(default_factory=list)
    val_acc: list[list[float]] = field(default_factory=list)

    def model(self, i: int) -> dict[str, list]:
        """The curves of model i."""
        return {"step": list(self.step), "train_loss": [r[i] for r in self.train_loss],
                "val_loss": [r[i] for r in self.val_loss], "val_acc": [r[i] for r in self.val_acc]}


@torch.no_grad()
def evaluate(params: Params, masks: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
             chunk: int = 2048) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean cross-entropy and accuracy (over sequences and positions) of each model on x, y."""
    M = masks.shape[0]
    qm = qkv_mask(masks)
    loss = torch.zeros(M, dtype=torch.float64, device=x.device)
    hits = torch.zeros(M, dtype=torch.float64, device=x.device)
    for a in range(0, len(x), chunk):
        xb, yb = x[a:a + chunk], y[a:a + chunk]
        logits = forward(params, qm, xb.expand(M, *xb.shape))
        lp = torch.log_softmax(logits.double(), -1)
        yy = yb.expand(M, *yb.shape)
        loss -= lp.gather(-1, yy[..., None]).sum((1, 2, 3))
        hits += (logits.argmax(-1) == yy).sum((1, 2)).double()
    count = x.numel()
    return (loss / count).cpu(), (hits / count).cpu()


class Stepper:
    """One training step of every model of a job; captured as a CUDA graph on CUDA."""

    def __init__(self, job: Job, x_train: torch.Tensor, y_train: torch.Tensor,
                 spec: OptimSpec, batch: int, graphs: bool) -> None:
        self.plist = [job.params[k] for k in NAMES]
        self.params = dict(zip(NAMES, self.plist, strict=True))
        self.qm = qkv_mask(job.masks)
        self.x, self.y = x_train, y_train
        self.opt = Optimizer(self.plist, spec)
        dev = x_train.device
        self.idx = torch.zeros(job.M, batch, dtype=torch.long, device=dev)
        self.loss_sum = torch.zeros(job.M, dtype=torch.float64, device=dev)
        self.graph = None
        if graphs and dev.type == "cuda":
            try:
                self.graph = self._capture()
            except RuntimeError as exc:  # run eagerly rather than not at all
                warnings.warn(f"CUDA graph capture failed, stepping eagerly: {exc}",
                              stacklevel=2)

    def _step(self) -> None:
        with torch.enable_grad():
            flat = self.idx.view(-1)
            xb = self.x.index_select(0, flat).view(*self.idx.shape, -1)
            yb = self.y.index_select(0, flat).view(*self.idx.shape, -1)
            loss = losses(self.params, self.qm, xb, yb)
            grads = torch.autograd.grad(loss.sum(), self.plist)
        self.opt.step(grads)
        self.loss_sum += loss.detach()

    def _capture(self) -> torch.cuda.CUDAGraph:
        """Warm up on a side stream, restore the state, and capture one step."""
        tensors = [*self.plist, *self.opt.state(), self.loss_sum]
        saved = [t.detach().clone() for t in tensors]
        try:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                for _ in range(3):
                    self._step()
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                self._step()
        finally:
            torch.cuda.synchronize()
            with torch.no_grad():
                for t, s in zip(tensors, saved, strict=True):
                    t.copy_(s)
            torch.cuda.synchronize()
        return graph

    def __call__(self, idx: torch.Tensor) -> None:
        self.idx.copy_(idx)
        if self.graph is not None:
            self.graph.replay()
        else:
            self._step()

    def state(self) -> dict[str, torch.Tensor]:
        return {"t": self.opt.t, **{f"m{i}": m for i, m in enumerate(self.opt.m)},
                **{f"v{i}": v for i, v in enumerate(self.opt.v)}, "loss_sum": self.loss_sum}


def train(job: Job, x_train: torch.Tensor, y_train: torch.Tensor, spec: OptimSpec,
          steps: int, batch: int, eval_at: Sequence[int], x_val: torch.Tensor,
          y_val: torch.Tensor, graphs: bool = True, progress: bool = True,
          resume: dict | None = None,
          checkpoint: Callable[[dict], None] | None = None, checkpoint_s: float = 300.0,
          desc: str = "train") -> Curves:
    """Train the job's models for `steps` steps in place; evaluate after the steps in
    `eval_at`. `resume` is a dict once passed to `checkpoint` (saved every checkpoint_s)."""
    dev = x_train.device
    for p in job.params.values():
        p.requires_grad_(True)
    stepper = Stepper(job, x_train, y_train, spec, batch, graphs)
    curves, start = Curves(), 0
    if resume is not None:
        start, curves = resume["step"], Curves(**{k: list(v) for k, v in
                                                  resume["curves"].items()})
        with torch.no_grad():
            for k in NAMES:
                job.params[k].copy_(resume["params"][k])
            for k, t in stepper.state().items():
                t.copy_(resume["optim"][k])
    pools = [torch.from_numpy(np.asarray(p, dtype=np.int64)) for p in job.pools]
    evals = sorted({s for s in eval_at if start < s <= steps})
    last_eval, last_ckpt = (curves.step[-1] if curves.step else 0), time.monotonic()
    bar = tqdm(total=steps, initial=start, desc=desc, disable=not progress, unit="step",
               mininterval=2.0)
    step = start
    while step < steps:
        stop = min(steps, step + CHUNK, *(s for s in evals if s > step))
        rel = [batch_indices(sd, len(pool), batch, step, stop - step)
               for sd, pool in zip(job.seeds, pools, strict=True)]
        idx = torch.stack([pool[torch.from_numpy(r)] for pool, r in zip(pools, rel,
                                                                         strict=True)], 1)
        idx = idx.to(dev, non_blocking=True)
        for j in range(stop - step):
            stepper(idx[j])
        bar.update(stop - step)
        step = stop
        if step in evals:
            val_loss, val_acc = evaluate(job.params, job.masks, x_val, y_val)
            train_loss = (stepper.loss_sum / max(step - last_eval, 1)).cpu()
            stepper.loss_sum.zero_()
            curves.step.append(step)
            curves.train_loss.append(train_loss.tolist())
            curves.val_loss.append(val_loss.tolist())
            curves.val_acc.append(val_acc.tolist())
            last_eval = step
            bar.set_postfix(val_acc=f"{float(val_acc.mean()):.3f}")
        if checkpoint is not None and step < steps and (
                time.monotonic() - last_ckpt > checkpoint_s):
            checkpoint(_snapshot(job, stepper, step, curves))
            last_ckpt = time.monotonic()
    bar.close()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return curves


def _snapshot(job: Job, stepper: Stepper, step: int, curves: Curves) -> dict:
    return {"step": step, "curves": {k: list(v) for k, v in vars(curves).items()},
            "params": {k: v.detach().cpu().clone() for k, v in job.params.items()},
            "optim": {k: v.detach().cpu().clone() for k, v in stepper.state().items()}}


def eval_steps(steps: int, steps_per_epoch: float, evals: int) -> list[int]:
    """Evaluation points: after every epoch (evals = 0), else `evals` evenly spaced."""
    if evals == 0:
        epochs = math.ceil(steps / steps_per_epoch - 1e-9)
        pts = [round(e * steps_per_epoch) for e in range(1, epochs + 1)]
    else:
        pts = [round(steps * (i + 1) / evals) for i in range(evals)]
    return sorted({min(max(p, 1), steps) for p in pts if steps > 0})


def paper_loop(model: HistogramTransformer, x_train: torch.Tensor, y_train: torch.Tensor,
               seed: int, steps: int, batch: int, spec: OptimSpec) -> list[float]:
    """The paper's way: one model, torch.optim, `loss.backward()`, one step at a time, on the
    same batches as `train` draws for this seed (pool = all of x_train). Returns the losses."""
    opt = (torch.optim.Adam(model.parameters(), lr=spec.lr, betas=(spec.beta1, spec.beta2),
                            eps=spec.eps) if spec.kind == "adam"
           else torch.optim.SGD(model.parameters(), lr=spec.lr))
    idx = torch.from_numpy(batch_indices(seed, len(x_train), batch, 0, steps))
    out = []
    for j in range(steps):
        xb, yb = x_train[idx[j]], y_train[idx[j]]
        logits = model(xb)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                 yb.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        out.append(loss.item())
    return out
