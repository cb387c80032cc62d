#!/usr/bin/env bash
# One time-boxed call on a lent GPU machine (16 CPU cores + 1 GPU), two jobs side by side:
# 1. the paper-scale sweeps of Fig. 2, concentration and Fig. 3 (configs/paper/, 10 seeds or
#    more per point) on the CPU cores, into one results store; the store resumes, so what is
#    not done inside BUDGET seconds is finished elsewhere with `attnphase reproduce ... --db`;
# 2. the brute-force gradient-flow references of the hard solver regimes on the GPU
#    (benchmarks/gd_flow_reference.py).
# Outputs in OUT: paper_runs.sqlite.gz (the store, claims dropped), gd_flow.jsonl, logs.
# usage: BUDGET=520 OUT=dir bash benchmarks/device_paper.sh          (from the repo root)
# (try it small: BUDGET=60 FIG3_WORKERS=1 SIDE_WORKERS=1 DEVICE=cpu OUT=/tmp/x bash ...)
set -uo pipefail
BUDGET=${BUDGET:-520}
DEVICE=${DEVICE:-cuda}
FIG3_WORKERS=${FIG3_WORKERS:-12}
SIDE_WORKERS=${SIDE_WORKERS:-3}
PY=${PY:-python3}
T0=$(date +%s)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
DB=${DB:-/tmp/paper_runs.sqlite}
left() { local s=$((BUDGET - ($(date +%s) - T0))); echo $((s > 1 ? s : 1)); }
[ "$DEVICE" = cuda ] && nvidia-smi -L
echo "cores $(OMP_NUM_THREADS= nproc)"
$PY -c 'import torch, numpy, pandas, yaml; print("torch", torch.__version__)' || exit 1

(cd benchmarks && timeout "$(left)" $PY gd_flow_reference.py --device "$DEVICE" \
   --out "$OUT/gd_flow.jsonl" >"$OUT/gd_flow.log" 2>&1) &
GPU_JOB=$!

(for fig in fig2 concentration; do
   timeout "$(left)" $PY -m attnphase.cli sweep configs/paper/$fig.yaml --db "$DB" \
     --workers "$SIDE_WORKERS" --quiet
   echo "$fig: rc $? at $(( $(date +%s) - T0 )) s"
 done) >"$OUT/side.log" 2>&1 &
SIDE=$!

timeout "$(left)" $PY -m attnphase.cli sweep configs/paper/fig3.yaml --db "$DB" \
  --workers "$FIG3_WORKERS" --quiet
echo "fig3: rc $? at $(( $(date +%s) - T0 )) s"
wait $SIDE; cat "$OUT/side.log"
wait $GPU_JOB; tail -3 "$OUT/gd_flow.log"

$PY - "$DB" <<'PYEOF'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
con.execute("DELETE FROM claims")  # the sweeps were cut here: their runs are free elsewhere
con.commit()
for name, n in con.execute("SELECT name, count(*) FROM runs GROUP BY name"):
    print(f"stored {name}: {n} runs")
con.execute("VACUUM")
con.close()
PYEOF
gzip -c "$DB" >"$OUT/paper_runs.sqlite.gz"
ls -la "$OUT"
