set -e
python3 -m pip install -q --no-deps --no-index --target /tmp/pydeps .whl/*.whl 2>&1 | tail -2
export PYTHONPATH=/tmp/pydeps:src
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__, torch.cuda.get_device_name())"
start=$(date +%s)
python3 -m xstilts.cli run configs/smoke.yaml --out /tmp/run > /tmp/run.log 2>&1 || { tail -40 /tmp/run.log; exit 1; }
end=$(date +%s)
echo "smoke study on GPU: $((end-start)) s"
tail -3 /tmp/run.log
cp /tmp/run/report/report.md /tmp/run/run.json /tmp/run/scores.csv $OUT/
start=$(date +%s)
python3 -m xstilts.cli run configs/smoke.yaml --out /tmp/run > /tmp/run2.log 2>&1
echo "rerun: $(( $(date +%s) - start )) s"; tail -2 /tmp/run2.log
