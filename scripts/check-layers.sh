#!/bin/sh
# scripts/check-layers.sh [repo] - src/ is layered: a folder includes headers only
# from itself and from the folders before it in LAYERS (transport/ sits between
# queue and route and may use util only). Also: no file in src/ over 800 lines.
# Prints each folder's includes; exits 1 on a violation.
set -eu
cd "${1:-$(dirname "$0")/..}"
LAYERS="util msg queue route runtime"
rank() { i=0; for l in $LAYERS transport; do [ "$l" = "$1" ] && { echo $i; return; }; i=$((i + 1)); done; echo 99; }
bad=0
for dir in $LAYERS transport; do
    root=src/$dir; [ "$dir" = transport ] && root=transport
    used=$(grep -rhoE '#include "(util|msg|queue|route|runtime|transport)/' "$root" 2>/dev/null |
        sed -E 's/#include "([a-z]+)\//\1/' | sort -u | grep -vx "$dir" | tr '\n' ' ' || true)
    echo "src layers: $dir includes: ${used:-(only its own headers and include/)}"
    for u in $used; do
        if [ "$dir" = transport ]; then ok=$([ "$u" = util ] && echo 1 || echo 0)
        elif [ "$u" = transport ]; then ok=$([ "$(rank "$dir")" -ge "$(rank route)" ] && echo 1 || echo 0)
        else ok=$([ "$(rank "$u")" -le "$(rank "$dir")" ] && echo 1 || echo 0); fi
        if [ "$ok" != 1 ]; then
            echo "src layers: VIOLATION: $dir includes $u:" >&2
            grep -rn "#include \"$u/" "$root" >&2
            bad=1
        fi
    done
done
stray=$(find src -maxdepth 1 -type f -name '*.[ch]')
if [ -n "$stray" ]; then echo "src layers: files outside a layer folder: $stray" >&2; bad=1; fi
big=$(find src -name '*.[ch]' -exec wc -l {} + | awk '$2 != "total" && $1 > 800 {print $2 " (" $1 " lines)"}')
if [ -n "$big" ]; then echo "src layers: files over 800 lines: $big" >&2; bad=1; fi
[ $bad = 0 ] && echo "src layers: no include against the layer order, no file over 800 lines"
exit $bad
