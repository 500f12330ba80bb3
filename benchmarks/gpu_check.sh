#!/usr/bin/env bash
# One prepared GPU check, run on a CUDA machine from the repo root with IMDB at data.source:
# prepare full IMDB with the real stages, measure the train stage's epoch loop beside the bare
# step at batch 64 and 256 (and bf16 autocast), then train the default model once and compare it
# with the NBSVM reference. Output is tee'd to ${OUT:-/tmp}/gpu_check.log.
set -uo pipefail
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
log=${OUT:-/tmp}/gpu_check.log
exec > >(tee "$log") 2>&1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, 'cudnn', torch.backends.cudnn.version())"
time (python3 stages/fetch.py && python3 stages/ingest.py && python3 stages/prepare_vocab.py && python3 stages/encode.py) || exit 1
for batch in 64 256; do
  python3 benchmarks/train_throughput.py --reviews 22500 --device cuda --set train.batch_size=$batch \
    $([ "$batch" = 64 ] || echo --skip-strategies)
done
python3 benchmarks/train_throughput.py --reviews 22500 --device cuda --skip-strategies --set train.batch_size=256 train.amp=true
time python3 benchmarks/compare_models.py --set train.device=cuda
