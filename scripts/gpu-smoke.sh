#!/usr/bin/env bash
# CUDA check: run the smoke study on a GPU machine, then rerun it (which must train nothing).
# Needs a Python with PyTorch (CUDA) and the project's dependencies; packages missing there
# can be placed as wheels in .whl/ and are installed into /tmp/pydeps first. Copy data/
# (synthetic data and tiny models) along, or let the run build it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=src
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-deps --no-index --target /tmp/pydeps .whl/*.whl
  export PYTHONPATH=/tmp/pydeps:src
fi
out=${OUT:-/tmp}
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
start=$(date +%s)
python3 -m xstilts.cli run configs/smoke.yaml --out /tmp/gpu-smoke > /tmp/gpu-smoke.log 2>&1 \
  || { tail -40 /tmp/gpu-smoke.log; exit 1; }
echo "smoke study: $(( $(date +%s) - start )) s"
tail -3 /tmp/gpu-smoke.log
cp /tmp/gpu-smoke/report/report.md /tmp/gpu-smoke/run.json /tmp/gpu-smoke/scores.csv "$out"/
start=$(date +%s)
python3 -m xstilts.cli run configs/smoke.yaml --out /tmp/gpu-smoke > /tmp/gpu-smoke-2.log 2>&1
echo "rerun: $(( $(date +%s) - start )) s"
tail -2 /tmp/gpu-smoke-2.log
