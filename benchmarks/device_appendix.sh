#!/usr/bin/env bash
# One time-boxed call on a lent GPU machine (16 CPU cores + 1 GPU): the two full-grid panels
# of the appendix at paper scale (configs/paper/appendix-A.yaml, appendix-rank2.yaml), side
# by side: appendix-A on CPU worker processes, appendix-rank2 on the GPU (`device: cuda`; a
# unit is then many data sets of one shape, sweep/groups.py), each device set per sweep.
# First a check that CUDA and the CPU give the same students on a small problem (flow, both
# inits, rank 2, the end-point check); if it fails, every sweep runs on the CPU. The stores
# resume: what is not done inside BUDGET seconds is finished elsewhere with
# `attnphase sweep ... --db`.
# The first lease (BENCHMARKS.md, "On a GPU") ran both sweeps on the GPU with 6 workers each,
# units of 64: 4.2 runs/s together, launch-bound; hence these defaults: the CPU cores for one
# grid, the GPU with few processes and larger units for the other.
# Outputs in OUT: appendix-A.sqlite.gz, appendix-rank2.sqlite.gz (claims dropped), logs.
# SEED_DIR (a carried folder) may hold NAME.sqlite stores with runs done before: they resume.
# usage: BUDGET=540 OUT=dir bash benchmarks/device_appendix.sh          (from the repo root)
#   per sweep: A_DEVICE, A_WORKERS, A_UNIT (cpu, 13, 32); R_DEVICE, R_WORKERS, R_UNIT
#   (cuda, 2, 256)
# (try it small: BUDGET=60 A_WORKERS=1 R_DEVICE=cpu R_WORKERS=1 R_UNIT=8 OUT=/tmp/x bash ...)
set -uo pipefail
BUDGET=${BUDGET:-540}
A_DEVICE=${A_DEVICE:-cpu}; A_WORKERS=${A_WORKERS:-13}; A_UNIT=${A_UNIT:-32}
R_DEVICE=${R_DEVICE:-cuda}; R_WORKERS=${R_WORKERS:-2}; R_UNIT=${R_UNIT:-256}
PY=${PY:-python3}
T0=$(date +%s)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
left() { local s=$((BUDGET - ($(date +%s) - T0))); echo $((s > 1 ? s : 1)); }
GPU=no
[ "$A_DEVICE" = cuda ] || [ "$R_DEVICE" = cuda ] && GPU=yes
[ $GPU = yes ] && nvidia-smi -L
echo "cores $(OMP_NUM_THREADS= nproc)"

if [ $GPU = yes ]; then
  timeout 120 $PY - <<'PYEOF' 2>&1 | tee "$OUT/smoke.log" || { A_DEVICE=cpu; R_DEVICE=cpu; GPU=no; }
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
echo "devices: appendix-A $A_DEVICE, appendix-rank2 $R_DEVICE"

for pair in "appendix-A $A_DEVICE" "appendix-rank2 $R_DEVICE"; do
  $PY - $pair <<'PYEOF'
import sys
import yaml
name, device = sys.argv[1:]
spec = yaml.safe_load(open(f"configs/paper/{name}.yaml"))
spec["base"]["device"] = device  # the device is not part of a run's hash
yaml.safe_dump(spec, open(f"/tmp/{name}.yaml", "w"))
PYEOF
done

for n in appendix-A appendix-rank2; do  # resume from stores carried along (SEED_DIR/NAME.sqlite)
  [ -n "${SEED_DIR:-}" ] && [ -f "$SEED_DIR/$n.sqlite" ] && cp "$SEED_DIR/$n.sqlite" "/tmp/$n.sqlite"
done

run() {  # name workers unit-size
  timeout "$(left)" $PY -m attnphase.cli sweep "/tmp/$1.yaml" --db "/tmp/$1.sqlite" \
    --workers "$2" --unit-size "$3" --quiet >"$OUT/$1.log" 2>&1
  echo "$1: rc $? at $(( $(date +%s) - T0 )) s" >>"$OUT/$1.log"
}
run appendix-A "$A_WORKERS" "$A_UNIT" &
A=$!
run appendix-rank2 "$R_WORKERS" "$R_UNIT" &
R=$!
tick=0
while kill -0 $A 2>/dev/null || kill -0 $R 2>/dev/null; do
  sleep 5
  tick=$((tick + 1))
  [ $((tick % 12)) -ne 0 ] && continue
  [ $GPU = yes ] && nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader
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
