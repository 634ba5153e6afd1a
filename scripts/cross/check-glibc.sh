#!/usr/bin/env bash
# Fails when a linux prebuild requires a glibc symbol version above the floor
# (GLIBC_FLOOR in env.sh: 2.28, what Node 20 itself needs), naming the worst:
#   scripts/cross/check-glibc.sh <file.node>...
set -euo pipefail
. "$(dirname "$0")/env.sh"
status=0
for file in "$@"; do
  # objdump -T lists each dynamic symbol with the version it binds to.
  symbols=$(objdump -T "$file" | awk '$0 ~ /GLIBC_[0-9]/ { for (i = 1; i <= NF; i++) if ($i ~ /GLIBC_[0-9]/) { v = $i; gsub(/[()]/, "", v); print v, $NF } }')
  worst=$(sort -V <<<"$symbols" | tail -1)
  version=${worst%% *}
  version=${version#GLIBC_}
  if [ -z "$version" ]; then echo "check-glibc: $file needs no versioned glibc symbol"; continue; fi
  if [ "$(printf '%s\n%s\n' "$version" "$GLIBC_FLOOR" | sort -V | tail -1)" != "$GLIBC_FLOOR" ]; then
    echo "check-glibc: $file needs glibc $version (${worst#* }), above the floor $GLIBC_FLOOR:" >&2
    sort -V <<<"$symbols" | tail -5 | sed "s/^/  /" >&2
    status=1
  else
    echo "check-glibc: $file needs glibc $version at most (${worst#* }); floor $GLIBC_FLOOR"
  fi
done
exit $status
