#!/usr/bin/env bash
# The histogram runs on a lent GPU in one time-boxed call (docs/histogram.md, BENCHMARKS.md):
# 1. the core model's `train` on CUDA and on CPU (a check that both agree);
# 2. bench_histogram.py on CUDA (paper loop vs batched, with and without CUDA graphs);
# 3. Fig. 1 at the paper's scale (configs/paper/fig1.yaml: 2 variants x 10 seeds, 200 epochs,
#    stability 100 epochs) and the transition study with as many Adam steps (<= 50,000) as
#    the measured step time leaves room for inside BUDGET seconds;
# 4. the outputs, the per-run store and the config used, in OUT/fig1.tgz and OUT/store.tgz.
# usage: BUDGET=450 OUT=dir bash benchmarks/histogram_gpu.sh   (run from the repo root)
# (DEVICE=cpu CONFIG=configs/quick/fig1.yaml BENCH="--steps 20 ..." try it at small scale)
set -uo pipefail
BUDGET=${BUDGET:-450}
DEVICE=${DEVICE:-cuda}
CONFIG=${CONFIG:-configs/paper/fig1.yaml}
BENCH=${BENCH:---no-graphs --steps 400 --paper-steps 100 --limit-gflops 67000}
T0=$(date +%s)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
PY=${PY:-python3}
[ "$DEVICE" = cuda ] && nvidia-smi -L
$PY -c 'import torch; print("torch", torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name())'
for dev in $DEVICE cpu; do
  echo "== core model, attnphase train --d 1000 --alpha 2 --device $dev"
  timeout 90 $PY -m attnphase.cli train --d 1000 --alpha 2 --device $dev --json
done
echo "== batched (CUDA graphs) vs one model at a time, float64, 40 steps, on $DEVICE"
timeout 120 $PY - "$DEVICE" <<'PYEOF'
import sys, numpy as np, torch
from attnphase.histogram.model import Arch, HistogramTransformer, init_params, qk_mask, stack
from attnphase.histogram.task import make_data
from attnphase.histogram.train import Job, OptimSpec, paper_loop, train
dev, arch, dt = sys.argv[1], Arch(), torch.float64
data = make_data(10, 15, 2000, 0.7, 0).to(dev)
runs = [(v, s) for v in ("semantic", "positional", "both") for s in (0, 1)]
p = {k: v.to(dev) for k, v in stack([init_params(arch, s, dt) for _, s in runs]).items()}
job = Job(p, torch.stack([qk_mask(arch, v) for v, _ in runs]).to(dev, dt), [s for _, s in runs],
          [np.arange(len(data.x_train))] * len(runs))
train(job, data.x_train, data.y_train, OptimSpec(), 40, 32, [], data.x_val, data.y_val, progress=False)
for i, (v, s) in enumerate(runs):
    m = HistogramTransformer(arch, init_params(arch, s, dt), v).to(dev)
    paper_loop(m, data.x_train, data.y_train, s, 40, 32, OptimSpec())
    q = m.params()
    print(v, s, "max |batched - single| =", max(float((q[k] - p[k][i].detach()).abs().max()) for k in q))
PYEOF
echo "== bench_histogram.py --device $DEVICE $BENCH"
timeout 150 $PY benchmarks/bench_histogram.py --device $DEVICE $BENCH | tee "$OUT/bench.txt"
$PY - "$BUDGET" "$T0" "$OUT/bench.txt" "$CONFIG" > /tmp/fig1_gpu.yaml <<'PYEOF'
import json, sys, time, yaml
budget, t0, bench, config = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
b = json.loads(open(bench).read().strip().splitlines()[-1])
t20, t70 = b["batched"]["ms_per_step"] / 1e3, b["transition"]["ms_per_step"] / 1e3
cfg = yaml.safe_load(open(config))
E, S = cfg.get("epochs", 200), cfg.get("stability_epochs", 100)
spe = cfg.get("n_sequences", 50000) * cfg.get("train_frac", 0.7) / cfg.get("batch", 32)
left = budget - (time.time() - t0) - 40  # outputs, figures, tar
fig1 = 1.15 * (E + S) * spe * t20
if fig1 > 0.8 * left:  # cannot fit the config's epochs: scale both stages down, say so
    f = 0.8 * left / fig1
    cfg["epochs"], cfg["stability_epochs"] = max(1, int(E * f)), max(1, int(S * f))
    fig1 *= f
cap = cfg.get("transition_steps", 50000)
steps = int(min(cap, (left - fig1) / (1.15 * t70)) // 100 * 100)
cfg["transition_steps"] = max(steps, 100)
print(f"# planned on the device: t20={t20*1e3:.3f} ms, t70={t70*1e3:.3f} ms, left={left:.0f} s",
      file=sys.stderr)
print(yaml.safe_dump(cfg, sort_keys=False))
PYEOF
cat /tmp/fig1_gpu.yaml
LEFT=$(( BUDGET - ($(date +%s) - T0) - 15 ))
echo "== reproduce fig1 on $DEVICE (limit ${LEFT} s)"
timeout "$LEFT" $PY -m attnphase.histogram.cli reproduce-fig1 --device $DEVICE \
  --config /tmp/fig1_gpu.yaml --out /tmp/fig1 --store /tmp/hstore --quiet
echo "reproduce rc=$?"
cp /tmp/fig1_gpu.yaml /tmp/fig1/fig1_gpu.yaml 2>/dev/null
cat /tmp/fig1/fig1_runs.csv /tmp/fig1/fig1_transition_summary.csv 2>/dev/null
tar czf "$OUT/fig1.tgz" -C /tmp fig1 2>/dev/null
tar czf "$OUT/store.tgz" -C /tmp hstore 2>/dev/null
rm -rf /tmp/fig1 /tmp/hstore
echo "== total $(( $(date +%s) - T0 )) s"
