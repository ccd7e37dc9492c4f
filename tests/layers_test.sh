#!/usr/bin/env bash
# The layers of docs/architecture.md, checked against the include graph: every #include of a file in src/ or
# include/nis/ must point to its own layer, a lower one, or one of the allowed sideways edges below.  A new public
# header must be given its layer here (and in docs/architecture.md).
# Usage: tests/layers_test.sh SOURCE_DIR
set -u
cd "$1" || exit 1
. tests/cli_lib.sh

# layer of each public header (its one home directory) and the rank of each layer
declare -A home=(
  [core.h]=core [ops.h]=core [rng.h]=core [schema.h]=core [dist.h]=core
  [io.h]=io [data.h]=io [idx.h]=io [images.h]=io [plot.h]=io
  [nn.h]=nn [checkpoint.h]=nn
  [target.h]=targets [blr.h]=targets [ebm.h]=targets
  [train.h]=train [ebm_train.h]=train [classifier_train.h]=train
  [mcmc.h]=mcmc
  [metrics.h]=metrics [fid.h]=metrics
)
declare -A rank=([core]=0 [io]=1 [dist]=1 [nn]=2 [targets]=3 [train]=4 [mcmc]=4 [metrics]=4 [cli]=5)
# sideways edges within a rank: the energy's trainer runs Langevin chains; the FID classifier's trainer trains it
sideways=" train>mcmc train>metrics "

check() {   # check FILE LAYER
  local f=$1 from=$2 inc to
  while read -r inc; do
    case "$inc" in
      nis/nis.h) bad "$f includes nis/nis.h (the umbrella header is for users)"; continue ;;
      nis/*) to=${home[${inc#nis/}]:-}
             [ -n "$to" ] || { bad "$f includes $inc, a public header with no layer (add it to tests/layers_test.sh)"; continue; } ;;
      */*) to=${inc%%/*} ;;
      *) to=$from ;;   # a private header of the file's own directory
    esac
    [ -n "${rank[$to]:-}" ] || { bad "$f includes $inc: unknown layer '$to'"; continue; }
    if [ "$to" = "$from" ] || [ "${rank[$to]}" -lt "${rank[$from]}" ] || [[ "$sideways" == *" $from>$to "* ]]; then
      ok
    else
      bad "$f ($from) includes $inc ($to): an upward or sideways edge the layers do not allow"
    fi
  done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
}

for f in include/nis/*.h; do
  h=$(basename "$f")
  [ "$h" = nis.h ] && continue
  [ -n "${home[$h]:-}" ] || { bad "$f has no layer (add it to tests/layers_test.sh)"; continue; }
  check "$f" "${home[$h]}"
done
for f in src/*/*.[ch]; do
  d=$(basename "$(dirname "$f")")
  [ -n "${rank[$d]:-}" ] || { bad "$f: directory $d is not a layer"; continue; }
  check "$f" "$d"
done
finish layers_test
