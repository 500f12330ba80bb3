#!/usr/bin/env bash
# One prepared GPU check (run on a CUDA machine from the repo root, with data/raw/aclImdb_v1.tar.gz):
# prepare full IMDB with the real stages, measure the train stage loop beside the bare step,
# then probe accuracy presets. Output is tee'd to ${OUT:-/tmp}/gpu_check.log.
set -uo pipefail
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
log=${OUT:-/tmp}/gpu_check.log
exec > >(tee "$log") 2>&1
setp() { python3 - "$@" <<'PY'
import sys, yaml
raw = yaml.safe_load(open("params.yaml"))
for item in sys.argv[1:]:
    key, value = item.split("=", 1); section, name = key.split(".")
    raw[section][name] = yaml.safe_load(value)
yaml.safe_dump(raw, open("params.yaml", "w"), sort_keys=False)
PY
}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, 'cudnn', torch.backends.cudnn.version())"
cp params.yaml /tmp/params.orig
time (python3 stages/ingest.py && python3 stages/prepare_vocab.py && python3 stages/encode.py) || exit 1
for batch in 64 256; do
  python3 benchmarks/train_throughput.py --reviews 22500 --device cuda --set train.batch_size=$batch \
    $([ "$batch" = 64 ] || echo --skip-strategies)
done
python3 benchmarks/train_throughput.py --reviews 22500 --device cuda --skip-strategies --set train.batch_size=256 train.amp=true
python3 benchmarks/accuracy_probe.py --device cuda
for preset in "encode.max_len=800" "encode.max_len=1000 vocab.max_size=50000"; do
  cp /tmp/params.orig params.yaml; setp $preset
  python3 stages/prepare_vocab.py && python3 stages/encode.py || continue
  for model in "model.dropout=0.5 train.epochs=8 train.patience=3" \
               "model.cell=lstm model.dropout=0.5 train.epochs=8 train.patience=3" \
               "model.embed_dim=256 model.dropout=0.5 train.lr=0.001 train.epochs=10 train.patience=3"; do
    python3 benchmarks/accuracy_probe.py --device cuda --set $preset $model
  done
done
cp /tmp/params.orig params.yaml
grep RESULT "$log"
