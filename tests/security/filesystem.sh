#!/usr/bin/env bash
# Attacks on the files the host reads, by a procedure that writes in its own
# folder: overwrite or create its sidecar (FILE.tac.yml, FILE.yml), the
# project's .tactus/config.yml (also through "lib/../"), its own source and
# a required .tac, read or create .env / .env.local, go through a symbolic
# link the user left (cfg -> .tactus), find os.rename/remove/io to move
# .tactus away, make folders on the way to a file through a link, out of
# the workspace, under .tactus or named like .env* or a .tac (File.write
# makes the missing ones, inside the workspace only). Every host file must
# be byte-for-byte unchanged, no new one may exist, and the procedure must
# have seen a clear error for each.
# doctor: the probe, a plain C program with no File layer to help it, tries
# the same from inside the container: the mounts alone must refuse.
# test-*, eval-*: the same attacks in a scenario of `tactus test` and a case
# of `tactus eval` (in Docker: the pooled container, the project read-only).
# resume-*: the same attacks after the run waited on a person and was
# approved, in the resumed run.
# quota-*: a procedure writing 300 MiB stops at the 256 MiB workspace quota.
#   filesystem.sh TACTUS MODE
#   MODE: no-sandbox | docker | doctor | quota-no-sandbox | quota-docker |
#         {test,eval,resume}-{no-sandbox,docker}
set -u
tactus=$1 mode=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "security-filesystem $mode: FAIL: $*" >&2; exit 1; }
sandbox=(--no-sandbox)
case "$mode" in
*docker)
    sandbox=()
    docker info >/dev/null 2>&1 || fail "no Docker daemon answers (scripts/start-dockerd.sh starts one)" ;;
esac

export HOME=$work/home
mkdir -p "$HOME" "$work/p/.tactus" "$work/p/lib"
p=$work/p
printf 'default_model: mock-config\n' > "$p/.tactus/config.yml"
printf 'default_model: mock-sidecar\n' > "$p/attack.tac.yml"
printf 'SECRET_TOKEN=canary-env-%s\n' "$RANDOM$RANDOM" > "$p/.env"
printf 'return {v = 1}\n' > "$p/lib/util.tac"
ln -s .tactus "$p/cfg"
# File.write creates missing folders: a link to a folder outside must not
# be a way out (docs/compatibility.md).
mkdir -p "$work/outside"
ln -s "$work/outside" "$p/linkdir"

case "$mode" in
doctor)
    mkdir -p "$p/sub/.tactus"
    printf 'x\n' > "$p/sub/.tactus/config.yml"
    printf 'return 1\n' > "$p/sub/deep.tac"
    printf 'a: 1\n' > "$p/sub/deep.yml"
    printf 'A=1\n' > "$p/sub/.env.local"
    chown -R 65534:65534 "$p"
    (cd "$p" && "$tactus" trust . >/dev/null) || fail "tactus trust failed"
    before=$(cd "$p" && find . -printf '%p %y %s %i\n' | sort; cd "$p" && sha256sum .env attack.tac.yml sub/deep.yml)
    out=$("$tactus" sandbox doctor --json "$p" 2>"$work/err") || fail "doctor reported a failed check: $out $(cat "$work/err")"
    after=$(cd "$p" && find . -printf '%p %y %s %i\n' | sort; cd "$p" && sha256sum .env attack.tac.yml sub/deep.yml)
    [ "$before" = "$after" ] || fail "the probe changed the host's files: $(diff <(echo "$before") <(echo "$after"))"
    detail=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1])["host_files"]; assert d["ok"], d; print(d["detail"])' "$out") \
        || fail "host_files: $out"
    # .tactus, attack.tac.yml, lib/util.tac, sub/.tactus, sub/deep.tac, sub/deep.yml (attack.tac is not written here)
    grep -q "^6 read-only" <<<"$detail" || fail "host_files saw the wrong files: $detail"
    grep -q "2 .env\* masked" <<<"$detail" || fail "host_files saw the wrong .env files: $detail"
    echo "security-filesystem $mode: ok ($detail)"
    exit 0 ;;
quota*)
    cat > "$p/attack.tac" <<'TAC'
-- Fills the disk: 300 MiB in 10 MiB files; the run's quota is 256 MiB.
Procedure {
  output = { written = field.number{} },
  function()
    local chunk = string.rep("x", 10 * 1024 * 1024)
    local n = 0
    for i = 1, 30 do
      File.write("fill-" .. i .. ".bin", chunk)
      n = n + #chunk
    end
    return { written = n }
  end,
}
TAC
    chown -R 65534:65534 "$p"
    (cd "$p" && "$tactus" trust . >/dev/null) || fail "tactus trust failed"
    (cd "$p" && "$tactus" run "${sandbox[@]}" attack.tac) >"$work/out" 2>&1 && fail "the run completed: $(cat "$work/out")"
    grep -q "workspace quota of 268435456 bytes (256 MiB" "$work/out" || fail "no quota message: $(cat "$work/out")"
    grep -q "fill-26.bin" "$work/out" || fail "the message does not name the file: $(cat "$work/out")"
    grep -q "sandbox.workspace_quota" "$work/out" || fail "the message does not name the key: $(cat "$work/out")"
    total=$(cat "$p"/fill-*.bin 2>/dev/null | wc -c)
    [ "$total" -le 268435456 ] || fail "$total bytes on disk, more than the quota"
    [ "$total" -ge 250000000 ] || fail "only $total bytes written: the quota fired too early"
    # A trusted configuration lowers it: 25 MiB lets two 10 MiB files through.
    rm -f "$p"/fill-*.bin
    mkdir -p "$HOME/.config/tactus"
    printf 'sandbox:\n  workspace_quota: 25m\n' > "$HOME/.config/tactus/config.yml"
    (cd "$p" && "$tactus" run "${sandbox[@]}" attack.tac) >"$work/out" 2>&1 && fail "the run completed under 25m"
    grep -q "quota of 26214400 bytes" "$work/out" || fail "sandbox.workspace_quota: 25m not applied: $(cat "$work/out")"
    [ "$(cat "$p"/fill-*.bin | wc -c)" -eq 20971520 ] || fail "not exactly two files under 25m"
    # Files and folders File.write creates count too (4096 bytes each), so
    # empty files cannot take the disk's inodes: 25 MiB is 6400 of them.
    rm -f "$p"/fill-*.bin
    cat > "$p/attack.tac" <<'TAC'
Procedure { function()
  for i = 1, 7000 do File.write("e" .. i, "") end
end }
TAC
    (cd "$p" && "$tactus" run "${sandbox[@]}" attack.tac) >"$work/out" 2>&1 && fail "7000 empty files were made under 25m"
    grep -q "e6401: writing 0 more bytes to a new file (a file counts 4096 bytes more) would pass the run's workspace quota" \
        "$work/out" || fail "no quota message for empty files: $(cat "$work/out")"
    [ "$(find "$p" -maxdepth 1 -name 'e*' -type f | wc -l)" -eq 6400 ] || fail "not exactly 6400 files under 25m"
    rm -f "$p"/e*
    # A folder and a file in it: 3200 of each.
    cat > "$p/attack.tac" <<'TAC'
Procedure { function()
  for i = 1, 7000 do File.write("d" .. i .. "/x", "") end
end }
TAC
    (cd "$p" && "$tactus" run "${sandbox[@]}" attack.tac) >"$work/out" 2>&1 && fail "7000 folders were made under 25m"
    grep -q "d3201/x: writing 0 more bytes to a new file" "$work/out" \
        || fail "no quota message for folders: $(cat "$work/out")"
    [ "$(find "$p" -maxdepth 1 -name 'd*' -type d | wc -l)" -eq 3200 ] || fail "not exactly 3200 folders under 25m"
    echo "security-filesystem $mode: ok ($total bytes on disk for a 300 MiB attempt)"
    exit 0 ;;
esac


# The attacks, each one's outcome under its own output key. The same
# expectations are checked in every mode: by this script on the result of
# `tactus run` / `tactus resume`, by the scenario's steps under `tactus
# test`, and by the evaluation's evaluators under `tactus eval`.
expected='sidecar|ERR:File.write: attack.tac.yml: FILE.tac.yml is a procedure'"'"'s configuration sidecar
yml|ERR:File.write: attack.yml: FILE.yml next to FILE.tac is that procedure'"'"'s configuration sidecar
config|ERR:File.write: .tactus/config.yml: the .tactus folder is the project'"'"'s configuration
climb|ERR:File.write: lib/../.tactus/config.yml: the .tactus folder
newconf|ERR:File.write: .tactus/other.yml: the .tactus folder
link|ERR:File.write: symbolic links are not allowed in the workspace: cfg/config.yml
source|ERR:File.write: attack.tac: .tac files are procedure sources
lib|ERR:File.write: lib/util.tac: .tac files are procedure sources
libside|ERR:File.write: lib/util.tac.yml: FILE.tac.yml
newtac|ERR:File.write: new.tac: .tac files are procedure sources
envread|ERR:File.read: .env: environment files (.env*) hold the host'"'"'s secrets and are not visible
envsize|ERR:File.size: no such file or folder: .env
envexists|OK:false
envwrite|ERR:File.write: .env: environment files
envlocal|ERR:File.write: .env.local: environment files
list|OK:.tactus,attack.tac,attack.tac.yml,cfg,lib,linkdir
mover|OK:nil,nil,nil
plain|OK:true
mkdeep|OK:true
mkclimb|ERR:File.write: the path leaves the workspace: ../escaped/x.txt
mklink|ERR:File.write: symbolic links are not allowed in the workspace: linkdir/new/x.txt
mklinkclimb|ERR:File.write: symbolic links are not allowed in the workspace: lib/../cfg/new/x.yml
mktactus|ERR:File.write: .tactus/new/x.yml: the .tactus folder
mkenv|ERR:File.write: .env.d/x: environment files
mktacdir|ERR:File.write: proc.tac/x.txt: a folder named proc.tac would take the name of a procedure source'
nexpected=$(wc -l <<<"$expected")
how=run
case "$mode" in test-* | eval-* | resume-*) how=${mode%%-*} ;; esac
gate=
# resume-*: the attacks come after a person's approval, in the resumed run.
[ "$how" = resume ] && gate='if not Human.approve({message = "Go on?"}) then return {} end'
{
    cat <<TAC
-- Tries to change what the host reads next time, and to read its secrets.
Procedure {
  function()
    $gate
    local out = {}
    local function try(label, f, ...)
      local ok, err = pcall(f, ...)
      out[label] = (ok and ("OK:" .. tostring(err)) or ("ERR:" .. tostring(err)))
    end
TAC
    cat <<'TAC'
    try("sidecar", File.write, "attack.tac.yml", "sandbox: {network: bridge}\n")
    try("yml", File.write, "attack.yml", "sandbox: {network: bridge}\n")
    try("config", File.write, ".tactus/config.yml", "sandbox: {network: bridge}\n")
    try("climb", File.write, "lib/../.tactus/config.yml", "sandbox: {network: bridge}\n")
    try("newconf", File.write, ".tactus/other.yml", "x: 1\n")
    try("link", File.write, "cfg/config.yml", "sandbox: {network: bridge}\n")
    try("source", File.write, "attack.tac", "-- replaced\n")
    try("lib", File.write, "lib/util.tac", "-- replaced\n")
    try("libside", File.write, "lib/util.tac.yml", "sandbox: {network: bridge}\n")
    try("newtac", File.write, "new.tac", "-- new\n")
    try("envread", File.read, ".env")
    try("envsize", File.size, ".env")
    try("envexists", File.exists, ".env")
    try("envwrite", File.write, ".env", "OPENAI_BASE_URL=http://127.0.0.1:9/\n")
    try("envlocal", File.write, ".env.local", "OPENAI_BASE_URL=http://127.0.0.1:9/\n")
    try("list", function() return table.concat(File.list("."), ",") end)
    -- Looked up by computed names, as an attacker would get past tactus check.
    try("mover", function()
      local o = _ENV["o" .. "s"] or {}
      return tostring(o["re" .. "name"]) .. "," .. tostring(o["re" .. "move"]) .. "," .. tostring(_ENV["i" .. "o"])
    end)
    try("plain", File.write, "out.txt", "fine\n")
    -- missing folders are created, inside the workspace only
    try("mkdeep", File.write, "reports/2026/q1.txt", "deep\n")
    try("mkclimb", File.write, "../escaped/x.txt", "out\n")
    try("mklink", File.write, "linkdir/new/x.txt", "out\n")
    try("mklinkclimb", File.write, "lib/../cfg/new/x.yml", "x: 1\n")
    try("mktactus", File.write, ".tactus/new/x.yml", "x: 1\n")
    try("mkenv", File.write, ".env.d/x", "A=1\n")
    try("mktacdir", File.write, "proc.tac/x.txt", "x\n")
    return out
  end,
}
TAC
    # One scenario whose steps are the expectations (a regex of each,
    # anchored), and one evaluation whose evaluators are the same.
    python3 -c '
import re, sys
lines = [l.split("|", 1) for l in sys.argv[1].splitlines()]
print("Specifications([==[\nFeature: the host files are closed\n  Scenario: attacks")
print("    When the procedure runs\n    Then the procedure should complete successfully")
for key, text in lines:
    print(f"    And the output {key} should match pattern \"^{re.escape(text)}\"")
print("]==])\nEvaluation({ dataset = {{name = \"attacks\", inputs = {}}}, evaluators = {")
for key, text in lines:
    print(f"  field.contains{{field = \"{key}\", value = [==[{text}]==]}},")
print("} })")' "$expected"
} >"$p/attack.tac"
chown -R 65534:65534 "$p"
(cd "$p" && "$tactus" trust . >/dev/null) || fail "tactus trust failed"
export TACTUS_STORE=$work/store/journal.db
snapshot() { (cd "$p" && find . -printf '%p %y %s\n' | grep -v -e '^./out.txt ' -e '^./reports' | sort; sha256sum .tactus/config.yml attack.tac.yml .env lib/util.tac attack.tac); }
before=$(snapshot)
case "$how" in
run)
    (cd "$p" && "$tactus" run --json "${sandbox[@]}" attack.tac) >"$work/out" 2>"$work/err" || fail "the run failed: $(cat "$work/err")" ;;
resume)
    (cd "$p" && "$tactus" run --json "${sandbox[@]}" attack.tac) >"$work/out" 2>"$work/err"
    rc=$?
    [ $rc -eq 3 ] || fail "the run did not wait for the approval (exit $rc): $(cat "$work/err" "$work/out")"
    ids=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["run_id"], d["pending"][0]["request_id"])' "$work/out") \
        || fail "no pending request: $(cat "$work/out")"
    read -r run req <<<"$ids"
    "$tactus" approve "$run" "$req" >"$work/approve" 2>&1 || fail "tactus approve failed: $(cat "$work/approve")"
    (cd "$p" && "$tactus" resume "$run" --json "${sandbox[@]}") >"$work/out" 2>"$work/err" ||
        fail "the resume failed: $(cat "$work/err" "$work/out")" ;;
test | eval)
    (cd "$p" && "$tactus" "$how" --format json "${sandbox[@]}" attack.tac) >"$work/out" 2>"$work/err" ||
        fail "tactus $how reported a failed expectation: $(cat "$work/out" "$work/err")" ;;
esac
after=$(snapshot)
[ "$before" = "$after" ] || fail "the host's files changed: $(diff <(echo "$before") <(echo "$after"))"
case "$how" in
run | resume)
    # The result holds each attack's outcome: check it against the expectations.
    python3 -c '
import json, sys
out = json.load(open(sys.argv[1]))["output"]
bad = 0
for line in sys.argv[2].splitlines():
    key, text = line.split("|", 1)
    if not str(out.get(key, "")).startswith(text):
        print(f"{key}: expected \"{text}\", got \"{out.get(key)}\"", file=sys.stderr)
        bad = 1
sys.exit(bad)' "$work/out" "$expected" || fail "an attack was not refused as expected (above)"
    ;;
test)
    # Every step passed: the scenario ran, and each expectation was judged.
    n=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(s["status"] == "passed" for f in d["features"] for c in f["scenarios"] for s in c["steps"]))' "$work/out") \
        || fail "no JSON report: $(cat "$work/out")"
    [ "$n" -eq $((nexpected + 2)) ] || fail "$n steps passed, expected $((nexpected + 2)): $(cat "$work/out")" ;;
eval)
    n=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(e["passed"] for v in d["evaluations"] for e in v["evaluators"]))' "$work/out") \
        || fail "no JSON report: $(cat "$work/out")"
    [ "$n" -eq "$nexpected" ] || fail "$n evaluators passed, expected $nexpected: $(cat "$work/out")" ;;
esac
# Where the run wrote: the project (a plain run, a resume, --no-sandbox) or
# the pooled container's /scratch, emptied after the run (test/eval in Docker).
case "$mode" in
test-docker | eval-docker) [ ! -e "$p/out.txt" ] || fail "a sandboxed $how run left out.txt in the project" ;;
*) [ "$(cat "$p/out.txt" 2>/dev/null)" = fine ] || fail "an ordinary write did not happen"
   [ "$(cat "$p/reports/2026/q1.txt" 2>/dev/null)" = deep ] || fail "a write into new folders did not happen" ;;
esac
[ -z "$(ls -A "$work/outside")" ] || fail "a folder was created through the link: $(ls -A "$work/outside")"
[ ! -e "$work/escaped" ] || fail "a folder was created outside the workspace"
for d in .tactus/new .env.d proc.tac; do
    [ ! -e "$p/$d" ] || fail "$d was created"
done
grep -rqs "canary-env" "$work/out" "$work/err" "$work/store" && fail "the .env secret reached the output or the journal"
for f in attack.yml .tactus/other.yml new.tac lib/util.tac.yml .env.local; do
    [ ! -e "$p/$f" ] || fail "$f was created"
done
echo "security-filesystem $mode: ok ($nexpected attempts refused or hidden under tactus $how, host files unchanged)"
