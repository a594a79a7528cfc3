#!/usr/bin/env bash
# Builds the release rlm-mcp binary with the flags that keep its footprint small; setup.sh, run_server.sh and
# deploy/Dockerfile all call this, so the three builds stay the same. Extra arguments go to `swift build`.
# Why each flag (measured in docs/performance.md, "Where the idle server's memory goes"):
#   --static-swift-stdlib     the Swift runtime and Foundation linked in: the binary runs on Docker/Daytona as is.
#   -use-ld=lld               lld, for the two flags below that gold lacks.
#   -function-sections        one section per function (Swift and C), so the linker can place start-up code together
#                             and --gc-sections drops unused functions one by one.
#   --symbol-ordering-file    scripts/startup-order.txt: the functions start-up runs, first, in the order they run;
#                             an idle server then maps a few MB of .text instead of ~16 MB scattered over 35 MB.
#                             Names no longer in the build are ignored (regenerate: scripts/bench/startup_order.py).
#                             SwiftPM does not see the file as an input: after editing it, delete the binary to relink.
#   --no-export-dynamic       the static runtime's link file (static-stdlib-args.lnk) passes -export-dynamic, which
#                             put every symbol of the program into .dynsym/.dynstr (5 MB the loader and dladdr read).
#                             Crash backtraces are unchanged: they never used .dynsym (frames show addresses).
#   -z pack-relative-relocs   the 160 k relative relocations as a 31 KB DT_RELR table instead of a 3.7 MB .rela.dyn
#                             that the loader reads in full; needs glibc >= 2.36 where the binary runs, so only
#                             used when the building machine has it (the image is Debian bookworm: 2.36).
#   --strip-all               no symbol tables in the shipped binary.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

flags=(-c release --product rlm-mcp --static-swift-stdlib -Xlinker --no-export-dynamic -Xlinker --strip-all)
if command -v ld.lld >/dev/null 2>&1 || [ -x "$(dirname "$(command -v swift)")/ld.lld" ]; then
    flags+=(-Xswiftc -use-ld=lld -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections
            -Xlinker "--symbol-ordering-file=$root/scripts/startup-order.txt" -Xlinker --no-warn-symbol-ordering)
    glibc="$(getconf GNU_LIBC_VERSION 2>/dev/null | sed -n 's/^glibc \([0-9]*\)\.\([0-9]*\).*/\1 \2/p' || true)"
    if [ -n "$glibc" ] && { [ "${glibc% *}" -gt 2 ] || { [ "${glibc% *}" -eq 2 ] && [ "${glibc#* }" -ge 36 ]; }; }; then
        flags+=(-Xlinker -z -Xlinker pack-relative-relocs)
    fi
else
    echo "build-release.sh: note: no ld.lld next to swift; linking with the default linker (a larger idle footprint)" >&2
fi
exec swift build "${flags[@]}" --package-path "$root" "$@"
