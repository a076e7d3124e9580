#!/usr/bin/env bash
# buf breaking against the last commit of main that has the contracts (proto/inventory):
# - on main (CI runs on a fresh clone of main after a merge): HEAD's first parent, i.e. main
#   as it was before the change being checked landed;
# - on any other branch: its merge base with main (what the branch would change).
# Works on a fresh full clone; a shallow clone without the parent is told to fetch it.
set -euo pipefail
cd "$(dirname "$0")/.."
BUF=${BUF:-node_modules/.bin/buf}
branch=$(git rev-parse --abbrev-ref HEAD)
if [ "$branch" != main ] && git rev-parse --verify -q main >/dev/null; then
  base=$(git merge-base HEAD main)
  [ "$base" = "$(git rev-parse HEAD)" ] && base=$(git rev-parse --verify -q HEAD~1 || true)
else
  base=$(git rev-parse --verify -q 'HEAD~1' || true)
fi
if [ -z "$base" ]; then
  if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
    echo "breaking: shallow clone without HEAD's parent; run 'git fetch --deepen=1' first" >&2
    exit 1
  fi
  echo "breaking: no earlier commit to compare with (first commit); nothing to check"
  exit 0
fi
# Walk back to the newest commit that has the contracts at all.
while ! git cat-file -e "$base:proto/inventory/v1" 2>/dev/null; do
  parent=$(git rev-parse --verify -q "$base~1" || true)
  if [ -z "$parent" ]; then
    echo "breaking: no earlier commit has proto/inventory/v1; nothing to check"
    exit 0
  fi
  base=$parent
done
echo "breaking: proto/ against $(git log -1 --format='%h %s' "$base")"
"$BUF" breaking --against ".git#ref=$base"
