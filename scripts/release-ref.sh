#!/usr/bin/env bash
# Releases are made from the default branch only. A push trigger already says so; a manual run
# (workflow_dispatch) can name any branch or tag, so release.yml's first step refuses the others.
# Names are data: a ref or branch outside refs/heads/<letters, digits, . _ / -> is refused (exit 2)
# before it is compared, and printed quoted (${var@Q}), so a newline in it cannot forge a log line.
#
#   scripts/release-ref.sh REF DEFAULT_BRANCH     e.g. scripts/release-ref.sh refs/heads/main main
set -euo pipefail
ref=${1:?usage: scripts/release-ref.sh REF DEFAULT_BRANCH}
default=${2:?usage: scripts/release-ref.sh REF DEFAULT_BRANCH}
name='[A-Za-z0-9._/-]+'
for value in "$ref" "refs/heads/$default"; do
  if ! [[ $value =~ ^refs/(heads|tags|pull)/$name$ ]]; then
    echo "release: refusing ${value@Q}: expected refs/(heads|tags|pull)/<name>, <name> of $name" >&2
    exit 2
  fi
done
if [[ $ref != "refs/heads/$default" ]]; then
  echo "release: refusing to release $ref: releases are made from refs/heads/$default only" >&2
  exit 1
fi
echo "release: $ref is the default branch"
