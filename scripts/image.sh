#!/usr/bin/env bash
# Build the container image of a built bento with podman, from the Dockerfile the bento carries
# (deploy/Dockerfile, at src/deploy/Dockerfile in the bento: the one the release workflow builds), on
# a Debian base image made locally with mmdebstrap when it is missing (no image registry is needed;
# the package registries are).
#
#   scripts/image.sh BENTO_DIR IMAGE_NAME REF_FILE LABELS_FILE
#
# LABELS_FILE is `mlops image-labels --format lines` output: `tag=...`, then `label=value` lines.
# BASE_IMAGE names the local base image (made when `podman image exists` says it is missing).
# Writes the image reference, NAME:TAG, to REF_FILE, atomically.
set -euo pipefail

bento=${1:?usage: scripts/image.sh BENTO_DIR IMAGE_NAME REF_FILE LABELS_FILE}
name=${2:?image name missing}
ref_file=${3:?file for the image reference missing}
labels_file=${4:?labels file missing}
base=${BASE_IMAGE:-localhost/mlops-base:bookworm}
runtime=${PODMAN_RUNTIME:-/usr/sbin/runc}
ca=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

dockerfile=$bento/src/deploy/Dockerfile
[[ -f $dockerfile ]] || { echo "scripts/image.sh: $dockerfile not found: build the bento first (make bento)" >&2; exit 2; }
for tool in podman mmdebstrap; do
  command -v "$tool" >/dev/null || { echo "scripts/image.sh: $tool not found (Debian: apt-get install -y podman runc mmdebstrap)" >&2; exit 2; }
done

# The base: Debian bookworm's Python 3.11 with pip, like python:3.11-slim (Debian's pip refuses to
# install outside a venv unless the EXTERNALLY-MANAGED marker goes; the official image has none).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! podman image exists "$base"; then
  echo "making the base image $base with mmdebstrap (about 70 s)" >&2
  mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    --customize-hook='rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    bookworm "$work/rootfs.tar"
  podman import --quiet --change 'CMD ["/bin/bash"]' "$work/rootfs.tar" "$base" >/dev/null
fi

# Build-time only (mounts are not layers): the machine's CA bundle, and pip told to trust it.
pip_config=$work/pip.conf
printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$pip_config"
tag=$(sed -n 's/^tag=//p' "$labels_file")
[[ -n $tag ]] || { echo "scripts/image.sh: $labels_file: no tag= line" >&2; exit 2; }
labels=()
while IFS= read -r label; do labels+=(--label "$label"); done < <(grep -v '^tag=' "$labels_file")
# Progress: podman's numbered step lines, cut to 100 characters, on stderr; the whole build output
# goes to a log whose end is shown only when the build fails.
echo "building $name:$tag with podman from $dockerfile" >&2
set +e
podman build --runtime "$runtime" --network host --pull=never --from "$base" \
  --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
  --volume "$ca:/etc/ssl/certs/ca-certificates.crt:ro" --volume "$pip_config:/etc/pip.conf:ro" \
  "${labels[@]}" --tag "$name:$tag" \
  --file "$dockerfile" "$bento" 2>&1 |
  tee "$work/build.log" | awk '/^STEP [0-9]+\/[0-9]+: / { print substr($0, 1, 100); fflush() }' >&2
status=${PIPESTATUS[0]}
set -e
if ((status != 0)); then
  echo "scripts/image.sh: podman build failed (exit $status); the end of its output:" >&2
  tail -n 40 "$work/build.log" >&2
  exit "$status"
fi
mkdir -p "$(dirname "$ref_file")"
printf '%s\n' "$name:$tag" >"$ref_file.tmp"
mv "$ref_file.tmp" "$ref_file"
echo "built $name:$tag ($(podman image inspect --format '{{.Size}}' "$name:$tag") bytes)" >&2
