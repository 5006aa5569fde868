#!/usr/bin/env bash
# Clustered fast Poly-CAM against exact on a ResNet-50 trained from scratch on finger
# phantoms (docs/benchmarks.md, "Clustered fast mode on a phantom ResNet-50").
#
# Usage: benchmarks/phantom_resnet50.sh PHANTOMS [OUT] [SIZE] [EPOCHS]
#   PHANTOMS  finger phantoms with annotations, e.g. from
#             medxai phantoms PHANTOMS --studies 600 --valid-studies 160 --body-parts XR_FINGER
#   OUT       work folder (default /tmp/phantom_resnet50): run folder, image links, exact cache
#   SIZE      input size in pixels (default 96)
#   EPOCHS    training epochs, cosine schedule over them (default 3)
#
# Steps:
#   1. train a ResNet-50 from random weights with configs/demo_phantoms.yaml (only the
#      architecture, input size, epochs and loader workers overridden); the checkpoint kept
#      is the best by valid study kappa;
#   2. copy the 8 annotated abnormal validation images that benchmarks/cams_clustered.py
#      picks by default (evenly spaced over the sorted list) into OUT/images, one folder per
#      image with its study's annotations.json (copies: medxai refuses symbolic links that
#      leave the folder), so that the exact maps can be computed in two single-thread processes and
#      cached (7,809 masked passes per image for PCAM± on a ResNet-50);
#   3. run benchmarks/cams_clustered.py on the 8 images for PCAM±, PCAM+ and PCAM− with
#      the cached exact maps, at channel budgets 10 (the CPU default), 16 and 32.
# Skip a step by leaving its output in place (OUT/model.ckpt, OUT/images, OUT/cache).
set -euo pipefail
PHANTOMS=${1:?phantom root}
OUT=${2:-/tmp/phantom_resnet50}
SIZE=${3:-96}
EPOCHS=${4:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"

# 1. Training
if [[ ! -f "$OUT/model.ckpt" ]]; then
  best=$(python "$HERE/../train.py" --config "$HERE/../configs/demo_phantoms.yaml" \
    --data.root "$PHANTOMS" --model.arch resnet50 --data.size "$SIZE" \
    --data.num_workers 0 --trainer.max_epochs "$EPOCHS" \
    --trainer.logger.init_args.save_dir "$OUT/runs" \
    --trainer.logger.init_args.name phantom_resnet50 | sed -n 's/^best checkpoint: //p')
  cp "$best" "$OUT/model.ckpt"
fi
CKPT="$OUT/model.ckpt"

# 2. The 8 images, one folder each (the image and its study's annotations.json)
if [[ ! -d "$OUT/images" ]]; then
  (cd "$HERE" && python - "$PHANTOMS" "$OUT/images" <<'EOF'
import glob
import shutil
import sys
from pathlib import Path

from cams_clustered import annotated
from cams_fast_mode import pick

root, out = sys.argv[1], Path(sys.argv[2])
found = annotated(sorted(glob.glob(f"{root}/valid/**/*positive/*.png", recursive=True)))
for i, (path, _) in enumerate(pick(found, 8), start=1):
    src = Path(path).resolve()
    folder = out / f"s{i}_{src.parent.parent.name}_{src.parent.name}"
    folder.mkdir(parents=True)
    shutil.copyfile(src, folder / src.name)
    shutil.copyfile(src.parent / "annotations.json", folder / "annotations.json")
EOF
  )
fi

BENCH=(python "$HERE/cams_clustered.py" --checkpoint "$CKPT" --limit 8
       --exact-cache "$OUT/cache" --threads 1)

# 3a. Exact maps into the cache: images 1-4 and 5-8 in two processes, one thread each
"${BENCH[@]}" --images "$OUT/images/s[1-4]_*/*.png" --budgets 16 --measure \
  > "$OUT/exact_1-4.log" 2>&1 &
"${BENCH[@]}" --images "$OUT/images/s[5-8]_*/*.png" --budgets 16 --measure \
  > "$OUT/exact_5-8.log" 2>&1 &
wait

# 3b. Fast modes against the cached exact maps (PCAM± and PCAM+/PCAM− in two processes);
#     ins−del and localisation for the default budget (10), Spearman for every budget
for variants in "pcam±" "pcam+ pcam-"; do
  # shellcheck disable=SC2086
  "${BENCH[@]}" --images "$OUT/images/*/*.png" --variants $variants \
    --budgets 10 16 32 --measure "cluster k=10" > "$OUT/clustered_${variants// /_}.txt" &
done
wait
cat "$OUT"/clustered_*.txt
