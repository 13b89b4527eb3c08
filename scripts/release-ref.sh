#!/usr/bin/env bash
# Releases are made from the default branch only. A push trigger already says so; a manual run
# (workflow_dispatch) can name any branch or tag, so release.yml's first step refuses the others.
#
#   scripts/release-ref.sh REF DEFAULT_BRANCH     e.g. scripts/release-ref.sh refs/heads/main main
set -euo pipefail
ref=${1:?usage: scripts/release-ref.sh REF DEFAULT_BRANCH}
default=${2:?usage: scripts/release-ref.sh REF DEFAULT_BRANCH}
if [[ $ref != "refs/heads/$default" ]]; then
  echo "release: refusing to release $ref: releases are made from refs/heads/$default only" >&2
  exit 1
fi
echo "release: $ref is the default branch"
