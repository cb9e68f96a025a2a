#!/usr/bin/env bash
# Sandbox images (needs dockerd): each build's image is named after the
# runtime it holds, tactus-sandbox:<version>-<12 hex of its SHA-256>, so two
# builds on one dockerd never rebuild each other's image (they used to share
# tactus-sandbox:<version> and rebuild it in turn, leaving a dangling image
# at every turn); `tactus sandbox prune` removes the image of a build that is
# gone and keeps every image a build still uses; nothing here leaves a
# dangling image behind.
#   images.sh BUILD_DIR
set -u
build=$1
tactus=$build/tactus
work=$(mktemp -d "${TMPDIR:-/tmp}/tactus-images.XXXXXX")
export XDG_CONFIG_HOME=$work/xdg HOME=$work/home TACTUS_STORE=$work/store/journal.db
mkdir -p "$HOME" "$XDG_CONFIG_HOME"
tag2=
cleanup() { [ -n "$tag2" ] && docker image rm "$tag2" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "sandbox images: FAIL: $*" >&2; [ -s "$work/out" ] && cat "$work/out" >&2; exit 1; }
docker info >/dev/null 2>&1 || fail "no Docker daemon answers (scripts/start-dockerd.sh starts one)"
# (images that record their runtime: built by this tactus; another checkout of
# an older tactus may be rebuilding its shared tag meanwhile)
dangling() { docker image ls -q --no-trunc -f dangling=true -f label=tactus.runtime_path | sort -u; }
dangling >"$work/dangling.before"

version=$("$tactus" version | awk '{print $2}')
tag1="tactus-sandbox:$version-$(sha256sum "$build/tactus-runtime" | cut -c1-12)"
"$tactus" sandbox rebuild >"$work/out" 2>&1 || fail "rebuild"
id1=$(docker image inspect --format '{{.Id}}' "$tag1" 2>/dev/null) || fail "no image $tag1"
"$tactus" sandbox status --json >"$work/out" || fail "status"
grep -qF "\"image\":\"$tag1\"" "$work/out" || fail "status names another image"
grep -qF '"image_state":"current"' "$work/out" || fail "status: not current"
[ "$(docker image inspect --format '{{index .Config.Labels "tactus.runtime_path"}}' "$tag1")" = \
  "$(readlink -f "$build/tactus-runtime")" ] || fail "the image does not record its runtime"

# A second build on the same dockerd: another runtime (one byte more).
b2=$work/b2
mkdir -p "$b2"
cp "$build/tactus" "$build/tactus-runtime" "$build/tactus-probe" "$b2/"
printf '\n' >>"$b2/tactus-runtime"
tag2="tactus-sandbox:$version-$(sha256sum "$b2/tactus-runtime" | cut -c1-12)"
[ "$tag1" != "$tag2" ] || fail "two runtimes, one tag"
proj=$work/proj
mkdir -p "$proj"
printf 'Procedure { function() return "hi" end }\n' >"$proj/hello.tac"
chown -R 65534:65534 "$proj"
for t in "$b2/tactus" "$tactus" "$b2/tactus" "$tactus"; do
    "$t" run --json "$proj/hello.tac" >"$work/out" 2>&1 || fail "a sandboxed run with $t"
    grep -q '"output":"hi"' "$work/out" || fail "run with $t"
done
grep -q "building it" "$work/out" && fail "a build rebuilt the other's image"
[ "$(docker image inspect --format '{{.Id}}' "$tag1")" = "$id1" ] || fail "$tag1 was rebuilt by the other build"
docker image inspect "$tag2" >/dev/null 2>&1 || fail "no image $tag2"

# The second build's runtime changes (a rebuild of that tree): its new image
# replaces its old one, which no build uses any more and goes at once
# (once Docker has removed the --rm containers of the runs above: an image
# a container still holds is never removed by force).
for _ in $(seq 1 100); do
    [ -z "$(docker ps -aq --filter "ancestor=$tag2")" ] && break
    sleep 0.1
done
printf '\n' >>"$b2/tactus-runtime"
old2=$tag2
tag2="tactus-sandbox:$version-$(sha256sum "$b2/tactus-runtime" | cut -c1-12)"
"$b2/tactus" run --json "$proj/hello.tac" >"$work/out" 2>&1 || fail "a run after the second build changed"
docker image inspect "$tag2" >/dev/null 2>&1 || fail "no image $tag2"
docker image inspect "$old2" >/dev/null 2>&1 && { docker image rm "$old2" >/dev/null 2>&1; fail "the superseded $old2 was left behind"; }
[ "$(docker image inspect --format '{{.Id}}' "$tag1")" = "$id1" ] || fail "$tag1 was touched by the other build's rebuild"

# prune: both are in use; then the second build is gone, and so is its image.
"$tactus" sandbox prune --dry-run >"$work/out" 2>&1
grep -qF "kept " "$work/out" && grep -F "$tag1" "$work/out" | grep -q "this build's image" || fail "prune --dry-run: $tag1 not kept as this build's"
grep -F "$tag2" "$work/out" | grep -q "used by the build at $(readlink -f "$b2")/tactus-runtime" || fail "prune --dry-run: $tag2 not kept for the other build"
rm -rf "$b2"
"$tactus" sandbox prune --dry-run >"$work/out" 2>&1
grep -F "$tag2" "$work/out" | grep -q "^would rm" || fail "prune --dry-run: $tag2 not to be removed"
docker image inspect "$tag2" >/dev/null 2>&1 || fail "--dry-run removed $tag2"
# (exit 1 is allowed here: an image of another build in use by a container stays)
"$tactus" sandbox prune >"$work/out" 2>&1
grep -F "$tag2" "$work/out" | grep -q "^removed" || fail "prune did not remove $tag2"
docker image inspect "$tag2" >/dev/null 2>&1 && fail "$tag2 is still there"
tag2=
docker image inspect "$tag1" >/dev/null 2>&1 || fail "prune removed this build's image"

dangling >"$work/dangling.after"
new=$(comm -13 "$work/dangling.before" "$work/dangling.after")
[ -z "$new" ] || fail "dangling images left behind: $new"
echo "sandbox images: ok ($tag1 kept, the other build's image built once and pruned once gone)"
