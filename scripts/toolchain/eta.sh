# The toolchain build's progress figures (sourced by build.sh): each tool's cold build time on the
# 2-core reference machine (reference-times.tsv, the one source of those figures) and the time left,
# scaled by how fast this machine has built the tools so far in this run.
# shellcheck shell=bash

# Tab-separated: tool, seconds, README row.
REFERENCE_TIMES=${REFERENCE_TIMES:-"$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/reference-times.tsv"}

# reference_seconds <tool> -> its cold build seconds on the reference machine ("" when the table lacks it).
reference_seconds() {
  awk -F'\t' -v t="$1" '!/^#/ && $1 == t { print $2; exit }' "$REFERENCE_TIMES"
}

# human_duration <seconds> -> "45 s", "5 min 27 s", "about 25 min" (from 10 minutes on).
human_duration() {
  local s=$1
  if ((s >= 600)); then echo "about $(((s + 30) / 60)) min"
  elif ((s >= 60)); then echo "$((s / 60)) min $((s % 60)) s"
  else echo "$s s"; fi
}

# pace_permille <seconds taken> <their reference seconds> -> this machine's pace against the reference
# (1000: as fast; 1500: half again as slow); 1000 before anything with a reference time was built.
pace_permille() {
  if (($2 > 0)); then echo $(($1 * 1000 / $2)); else echo 1000; fi
}

# seconds_left <pace permille> <seconds spent on the current tool> <current tool> [later tools...]
#   -> estimated seconds until the last of them is built (tools without a reference time count 0).
seconds_left() {
  local pace=$1 spent=$2 t ref left=0 current=true
  shift 2
  for t in "$@"; do
    ref=$(reference_seconds "$t")
    ref=$((${ref:-0} * pace / 1000))
    if [[ $current == true ]]; then
      ref=$((ref > spent ? ref - spent : 0))
      current=false
    fi
    left=$((left + ref))
  done
  echo "$left"
}
