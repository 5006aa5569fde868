#!/usr/bin/env bash
# Audit on phantoms: localisation (PCAM variants vs CAM) and insertion/deletion
# for every registered method, on the phantom valid split with the demo model.
# Usage: benchmarks/audit_phantoms.sh ROOT CKPT [OUT_PREFIX]
#   ROOT  phantom dataset the checkpoint was trained with (its provenance root)
#   CKPT  medxai checkpoint (resnet18, 64 px, trained with no cast shortcut)
set -euo pipefail
ROOT=${1:?phantom root}
CKPT=${2:?checkpoint}
OUT=${3:-/tmp/audit}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

EVAL=(medxai evaluate "$ROOT" --checkpoint "$CKPT" --split valid
      --metrics insertion,deletion,localisation --no-progress
      --accelerator cpu --strategy ddp)

# 1. CAM against the Poly-CAM variants: first 56 valid images, channel budget 32
"${EVAL[@]}" --methods cam,pcam+,pcam-,pcam± --channel-budget 32 --limit 56 \
  --devices 4 --out "$OUT/eval_pcam"

# 2. The other registered methods: cheap ones on the first 8 images ...
"${EVAL[@]}" --methods gradcam,gradcam++,smoothgradcam++,layercam,ixg,ig,smoothgrad \
  --limit 8 --devices 2 --out "$OUT/eval_baselines"
# ... perturbation methods (many forward passes each) on the first 2 images
"${EVAL[@]}" --methods scorecam,sscam,iscam,occlusion,rise \
  --limit 2 --devices 2 --out "$OUT/eval_costly"

# 3. Cascading randomisation sanity check (table + figure)
python benchmarks/audit_sanity.py --root "$ROOT" --checkpoint "$CKPT" --images 3
