#!/usr/bin/env bash
# Ablation of the detector's bias prior and focal loss on the generated Fashion-MNIST detection set (docs/detection.md).
# Four short runs of YOLOv5n at --img 128 on the first 320 training images, 6 epochs, the same seed; each variant's
# metrics.csv and summary.md are copied next to this script. Run from the repository root after
#   ember detect make-data --output datasets/fashion-det --seed 0
# EMBER overrides the command (default: dotnet run --project src/Ember.Cli -c Release --); VARIANTS picks some of the
# four (e.g. VARIANTS="prior no-prior").
set -euo pipefail
EMBER=${EMBER:-"dotnet run --project src/Ember.Cli -c Release --"}
OUT=$(dirname "$0")
PROJECT=${PROJECT:-runs/detect-ablation}
common=(--data datasets/fashion-det/data.yaml --model n --img 128 --epochs 6 --batch-size 16 --limit 320 --augment false
        --warmup-epochs 1 --warmup-min-steps 0 --ema 0 --plot-images 0 --seed 0 --plain --project "$PROJECT")
VARIANTS=${VARIANTS:-"prior no-prior prior-focal no-prior-focal"}
for variant in "prior:true:0" "no-prior:false:0" "prior-focal:true:1.5" "no-prior-focal:false:1.5"; do
  IFS=: read -r name prior gamma <<< "$variant"
  [[ " $VARIANTS " == *" $name "* ]] || continue
  log=$($EMBER detect train "${common[@]}" --bias-prior "$prior" --focal-gamma "$gamma" | tee /dev/stderr)
  run=$(sed -n 's/^done: .* results in //p' <<< "$log")
  mkdir -p "$OUT/$name"
  cp "$run/metrics.csv" "$run/summary.md" "$OUT/$name/"
done
