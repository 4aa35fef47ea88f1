#!/bin/sh
# Makes a small image from this machine's busybox (Debian: busybox-static), with no registry and no network:
# a root filesystem of busybox and its applets, given to `docker import`. The tests make their image this way.
#
#   scripts/busybox-image.sh [name]      # default name: bb; the docker CLI from PATH (or $DOCKER), DOCKER_HOST as set
set -eu
name=${1:-bb}
busybox=$(command -v busybox) || { echo "busybox-image: busybox not found; install it (apt-get install -y busybox-static)" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/bin" "$dir/data" "$dir/tmp" "$dir/etc" "$dir/proc" "$dir/sys" "$dir/dev"
cp "$busybox" "$dir/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
done
tar -C "$dir" -c . | "${DOCKER:-docker}" import - "$name" >/dev/null
echo "$name"
