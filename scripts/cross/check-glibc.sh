#!/usr/bin/env bash
# Fails when a linux glibc prebuild needs a symbol version newer than its floor,
# naming the worst symbols:
#   GLIBC    2.28    Node 20's own floor (GLIBC_FLOOR in env.sh)
#   GLIBCXX  3.4.25  libstdc++ of GCC 8, which the glibc 2.28 distributions
#   CXXABI   1.3.11  (RHEL 8, Debian 10) ship
#   scripts/cross/check-glibc.sh <file.node>...
set -euo pipefail
. "$(dirname "$0")/env.sh"
floors=("GLIBC $GLIBC_FLOOR" "GLIBCXX 3.4.25" "CXXABI 1.3.11")
status=0
for file in "$@"; do
  # objdump -T lists each dynamic symbol with the version it binds to.
  dynamic=$(objdump -T "$file")
  summary=()
  for floor in "${floors[@]}"; do
    family=${floor% *} limit=${floor#* }
    symbols=$(awk -v family="$family" '{ for (i = 1; i <= NF; i++) { v = $i; gsub(/[()]/, "", v)
      if (v ~ "^" family "_[0-9]") print substr(v, length(family) + 2), $NF } }' <<<"$dynamic" | sort -V)
    [ -n "$symbols" ] || continue
    worst=$(tail -1 <<<"$symbols")
    if [ "$(printf '%s\n%s\n' "${worst%% *}" "$limit" | sort -V | tail -1)" != "$limit" ]; then
      echo "check-glibc: $file needs $family ${worst%% *} (${worst#* }), above the floor $limit:" >&2
      sed 's/^/  /' <<<"$symbols" | tail -5 >&2
      status=1
    fi
    summary+=("$family ${worst%% *} (${worst#* })")
  done
  echo "check-glibc: $file needs at most: ${summary[*]}"
done
exit $status
