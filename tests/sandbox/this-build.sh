# shellcheck shell=bash
# The containers of this build (sourced, never run). dockerd is shared with
# other checkouts and their test suites, so a test counts, waits for or
# kills only the containers of its own build's image, whose tag carries the
# runtime's hash (tactus-sandbox:<version>-<hash>):
#   this_build_image TACTUS   sets image (false when tactus cannot say)
#   mine ARGS...              docker ps ARGS... of this build's image only
this_build_image() {
    image=$("$1" sandbox status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["image"])')
    [ -n "$image" ]
}
mine() { docker ps "$@" --filter "ancestor=$image"; }
