#!/usr/bin/env bash
# Push a built image to each of its tags, unless they exist: release tags never move.
#
#   scripts/push-image.sh SOURCE REFS
#
# SOURCE is a skopeo reference to the built image (release.yml: `oci-archive:<file>` that buildx
# wrote, with its SBOM and provenance; the tests: a `podman save` archive). REFS is whitespace-separated
# `repository:tag` references, all in one repository (docker/metadata-action's tags output).
# The registry is asked first (`skopeo inspect`): when every tag exists, nothing is pushed, the
# existing digest is reported and the exit code is 0 (a re-run of the release on the same commit
# pushes no new digest, so its registration still matches). When some exist and others do not,
# nothing is pushed and the exit code is 1: that needs a person. Otherwise the image is copied to each
# tag with its digest kept (`--preserve-digests`). The digest goes to stdout and, in a workflow, to
# GITHUB_OUTPUT as `digest=`, with `image=<repository>@<digest>` (what the release signs).
# TLS_VERIFY=false allows a plain-HTTP registry (a test's on 127.0.0.1).
set -euo pipefail

usage="usage: scripts/push-image.sh SOURCE 'REPOSITORY:TAG ...'"
(($# == 2)) || { echo "$usage" >&2; exit 2; }
source_ref=$1
refs_text=$2
tls=${TLS_VERIFY:-true}
[[ $tls == true || $tls == false ]] || { echo "push-image: TLS_VERIFY=$tls: expected true or false" >&2; exit 2; }
command -v skopeo >/dev/null || { echo "push-image: skopeo not found (Debian/Ubuntu: apt-get install -y skopeo)" >&2; exit 2; }

# Names are data: each ref is wholly repository:tag (the registry's grammar), one repository for all.
ref_pattern='^[a-z0-9][a-z0-9._/:-]*[a-z0-9]:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$'
read -r -d '' -a refs <<<"$refs_text" || true
((${#refs[@]})) || { echo "push-image: no references to push to" >&2; exit 2; }
for ref in "${refs[@]}"; do
  [[ $ref =~ $ref_pattern ]] || { echo "push-image: ${ref@Q}: expected repository:tag ($ref_pattern)" >&2; exit 2; }
  [[ ${ref%:*} == "${refs[0]%:*}" ]] || { echo "push-image: ${ref@Q} is not in ${refs[0]%:*}" >&2; exit 2; }
done

# The digest of REF's top manifest (an index for a multi-platform image), or nothing when the
# registry says it has no such tag; any other answer (auth, network) stops the push.
existing_digest() {
  local manifest=$work/manifest err
  if err=$(skopeo inspect --raw --tls-verify="$tls" "docker://$1" 2>&1 >"$manifest"); then
    skopeo manifest-digest "$manifest"
    return
  fi
  if [[ $err != *"manifest unknown"* && $err != *"MANIFEST_UNKNOWN"* && $err != *"NAME_UNKNOWN"* ]]; then
    echo "push-image: cannot ask the registry about $1: $err" >&2
    exit 1
  fi
}

report() {
  printf '%s\n' "$1"
  if [[ -n ${GITHUB_OUTPUT:-} ]]; then
    printf 'digest=%s\nimage=%s@%s\n' "$1" "${refs[0]%:*}" "$1" >>"$GITHUB_OUTPUT"
  fi
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
declare -A found=()
for ref in "${refs[@]}"; do
  digest=$(existing_digest "$ref")
  [[ -z $digest ]] || found[$ref]=$digest
done
if ((${#found[@]} == ${#refs[@]})); then
  digests=$(printf '%s\n' "${found[@]}" | sort -u)
  if [[ $digests == *$'\n'* ]]; then
    echo "push-image: the tags exist with different digests; nothing pushed:" >&2
    for ref in "${refs[@]}"; do echo "  $ref ${found[$ref]}" >&2; done
    exit 1
  fi
  echo "push-image: ${refs[*]} already exist at $digests (tags never move): nothing pushed" >&2
  report "$digests"
  exit 0
fi
if ((${#found[@]})); then
  echo "push-image: some tags exist, others do not; nothing pushed (tags never move):" >&2
  for ref in "${refs[@]}"; do echo "  $ref ${found[$ref]:-missing}" >&2; done
  exit 1
fi

pushed=
for ref in "${refs[@]}"; do
  skopeo copy --quiet --all --preserve-digests --dest-tls-verify="$tls" --digestfile "$work/digest" \
    "$source_ref" "docker://$ref" >&2
  digest=$(cat "$work/digest")
  [[ -z $pushed || $digest == "$pushed" ]] || { echo "push-image: $ref got $digest, not $pushed" >&2; exit 1; }
  pushed=$digest
  echo "push-image: pushed $ref at $digest" >&2
done
report "$pushed"
