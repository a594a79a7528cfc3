#!/usr/bin/env bash
# Makes the two base images deploy/Dockerfile starts from (swift:6.3-bookworm, debian:bookworm-slim) on a machine
# whose Docker engine cannot pull from an image registry but can reach Debian's package mirror: a debootstrap'ed
# bookworm for the runtime, plus the local Swift toolchain (/opt/swift) and Swift package mirror (/opt/swift-packages)
# for the build stage. Only for verifying the image offline (Tests/Interop/test_docker_image.py); elsewhere Docker pulls
# the official images.
set -euo pipefail
work="${1:-/tmp/rlm-mcp-base-images}"
swift_root="${SWIFT_ROOT:-/opt/swift}"
packages="${SWIFT_PACKAGES:-/opt/swift-packages}"
command -v debootstrap >/dev/null || { echo "needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "no Docker engine answers (docker info failed)" >&2; exit 1; }

rootfs="$work/bookworm"
if [ ! -x "$rootfs/usr/bin/apt-get" ]; then
    mkdir -p "$work"
    debootstrap --variant=minbase bookworm "$rootfs"
fi
if ! docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
    tar -C "$rootfs" -c . | docker import --change 'CMD ["bash"]' - debian:bookworm-slim
fi

if ! docker image inspect swift:6.3-bookworm >/dev/null 2>&1; then
    swiftfs="$work/swift-bookworm"
    rm -rf "$swiftfs"
    cp -a "$rootfs" "$swiftfs"
    # The packages the official swift:bookworm image installs for building.
    chroot "$swiftfs" /bin/sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        binutils git gnupg2 libc6-dev libcurl4-openssl-dev libedit2 libgcc-12-dev libpython3-dev libsqlite3-0 \
        libstdc++-12-dev libxml2-dev libz3-dev libncurses6 pkg-config tzdata zlib1g-dev ca-certificates && rm -rf /var/lib/apt/lists/*'
    mkdir -p "$swiftfs/opt"
    cp -a "$swift_root" "$swiftfs/opt/swift"
    cp -a "$packages" "$swiftfs/opt/swift-packages"
    # Package.swift names github.com addresses; in this image git reads them from the local mirror.
    chroot "$swiftfs" git config --system url./opt/swift-packages/.insteadOf https://github.com/
    tar -C "$swiftfs" -c . | docker import --change 'ENV PATH=/opt/swift/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' - swift:6.3-bookworm
    rm -rf "$swiftfs"
fi
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^(swift:6.3-bookworm|debian:bookworm-slim) '
