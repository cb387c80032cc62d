#!/usr/bin/env bash
# One time-boxed call on a lent GPU machine (16 CPU cores + 1 GPU): the two full-grid panels
# of the appendix at paper scale (configs/paper/appendix-A.yaml, appendix-rank2.yaml), with
# the GPU as the device (`device: cuda`; a unit is then many data sets of one shape,
# sweep/groups.py). First a check that CUDA and the CPU give the same students on a small
# problem (flow, both inits, rank 2, the end-point check); if it fails, the sweeps run on the
# CPU cores instead. The stores resume: what is not done inside BUDGET seconds is finished
# elsewhere with `attnphase sweep ... --db`.
# Outputs in OUT: appendix-A.sqlite.gz, appendix-rank2.sqlite.gz (claims dropped), logs.
# usage: BUDGET=540 OUT=dir bash benchmarks/device_appendix.sh          (from the repo root)
# (try it small: BUDGET=60 DEVICE=cpu WORKERS=1 OUT=/tmp/x bash ...)
set -uo pipefail
BUDGET=${BUDGET:-540}
DEVICE=${DEVICE:-cuda}
WORKERS=${WORKERS:-6}
PY=${PY:-python3}
T0=$(date +%s)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
left() { local s=$((BUDGET - ($(date +%s) - T0))); echo $((s > 1 ? s : 1)); }
[ "$DEVICE" = cuda ] && nvidia-smi -L
echo "cores $(OMP_NUM_THREADS= nproc)"

if [ "$DEVICE" = cuda ]; then
  timeout 120 $PY - <<'PYEOF' 2>&1 | tee "$OUT/smoke.log" || DEVICE=cpu
import time
from attnphase.config import Config
from attnphase.experiment import train_many
cfgs = [Config(d=200, alpha=a, omega=0.3, seed=s, init=i)
        for a in (0.5, 1.0) for s in (11, 12) for i in ("semantic", "positional")]
cfgs += [Config(d=200, alpha=1.5, omega=0.3, seed=13, rank=2, init="random"),
         Config(d=200, alpha=1.0, omega=0.3, seed=14, certify=1)]
out = {}
for dev in ("cpu", "cuda"):
    t = time.perf_counter()
    out[dev] = train_many([c.replace(device=dev) for c in cfgs])
    print(f"{dev}: {time.perf_counter() - t:.2f} s")
worst = 0.0
for c, a, b in zip(cfgs, out["cpu"], out["cuda"], strict=True):
    rel = abs(a.eps_t - b.eps_t) / a.eps_t
    worst = max(worst, rel)
    print(f"alpha {c.alpha} seed {c.seed} {c.init} rank {c.rank}: eps_t cpu {a.eps_t:.10g} "
          f"cuda {b.eps_t:.10g} (rel {rel:.1e}); eps_g {a.eps_g:.8g} {b.eps_g:.8g}; "
          f"steps {a.steps} {b.steps}; {a.status} {b.status}")
assert worst < 1e-6, f"cpu and cuda differ by {worst:.1e}"
print("smoke ok")
PYEOF
fi
echo "device for the sweeps: $DEVICE"

for name in appendix-A appendix-rank2; do
  $PY - "$name" "$DEVICE" <<'PYEOF'
import sys
import yaml
name, device = sys.argv[1:]
spec = yaml.safe_load(open(f"configs/paper/{name}.yaml"))
spec["base"]["device"] = device  # the device is not part of a run's hash
yaml.safe_dump(spec, open(f"/tmp/{name}.yaml", "w"))
PYEOF
done

run() {  # name workers
  timeout "$(left)" $PY -m attnphase.cli sweep "/tmp/$1.yaml" --db "/tmp/$1.sqlite" \
    --workers "$2" --quiet >"$OUT/$1.log" 2>&1
  echo "$1: rc $? at $(( $(date +%s) - T0 )) s" >>"$OUT/$1.log"
}
run appendix-A "$WORKERS" &
A=$!
run appendix-rank2 "$WORKERS" &
R=$!
tick=0
while kill -0 $A 2>/dev/null || kill -0 $R 2>/dev/null; do
  sleep 5
  tick=$((tick + 1))
  [ $((tick % 12)) -ne 0 ] && continue
  [ "$DEVICE" = cuda ] && nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader
  for n in appendix-A appendix-rank2; do
    $PY -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(sys.argv[2], c.execute('select count(*) from runs').fetchone()[0], 'runs at', sys.argv[3], 's')" \
      "/tmp/$n.sqlite" "$n" $(( $(date +%s) - T0 )) 2>/dev/null
  done
done
cat "$OUT/appendix-A.log" "$OUT/appendix-rank2.log"

for n in appendix-A appendix-rank2; do
  $PY - "/tmp/$n.sqlite" <<'PYEOF'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
con.execute("DELETE FROM claims")  # the sweep was cut here: its runs are free elsewhere
con.commit()
for name, n, st in con.execute("SELECT name, count(*), group_concat(DISTINCT status) FROM runs "
                               "GROUP BY name"):
    print(f"stored {name}: {n} runs ({st})")
con.execute("VACUUM")
con.close()
PYEOF
  gzip -c "/tmp/$n.sqlite" >"$OUT/$n.sqlite.gz"
done
ls -la "$OUT"
