#!/usr/bin/env bash
# deploy/ checked where it can be without a cluster (deploy/README.md): the
# files parse, the Kubernetes manifests render with kubectl's kustomize, and
# the settings docs/scaling.md relies on are there.
#   check.sh REPO_ROOT
set -u
root=${1:?usage: check.sh REPO_ROOT}
fail() { echo "deploy/check: FAIL: $*" >&2; exit 1; }
rendered=$(mktemp)
trap 'rm -f "$rendered"' EXIT
if command -v kubectl >/dev/null; then
    kubectl kustomize "$root/deploy/k8s" >"$rendered" 2>&1 || fail "kubectl kustomize deploy/k8s: $(cat "$rendered")"
    echo "deploy/check: kubectl kustomize rendered $(grep -c '^kind:' "$rendered") objects"
else
    # Without kubectl: the resources listed by the kustomization, concatenated.
    for f in $(python3 -c 'import sys, yaml; print(" ".join(yaml.safe_load(open(sys.argv[1]))["resources"]))' "$root/deploy/k8s/kustomization.yaml"); do
        cat "$root/deploy/k8s/$f"
        echo "---"
    done >"$rendered"
    echo "deploy/check: kubectl is not installed: the manifests are checked as listed, not rendered"
fi
python3 - "$root" "$rendered" <<'PY' || exit 1
import re, sys, yaml
root, rendered = sys.argv[1], sys.argv[2]
errors = []
def check(ok, what):
    if not ok:
        errors.append(what)
docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
by_kind = {}
for d in docs:
    by_kind.setdefault(d["kind"], []).append(d)
for kind in ["Namespace", "RuntimeClass", "Secret", "Job", "Deployment", "NetworkPolicy"]:
    check(kind in by_kind, "no %s" % kind)
check(by_kind.get("RuntimeClass", [{}])[0].get("handler") == "runsc", "the RuntimeClass's handler is not runsc")
def grace_of(args):
    return int(args[args.index("--grace") + 1]) if "--grace" in args else 30
for d in by_kind.get("Deployment", []) + by_kind.get("Job", []):
    spec = d["spec"]["template"]["spec"]
    name = d["metadata"]["name"]
    check(spec.get("securityContext", {}).get("runAsNonRoot") is True, name + ": not runAsNonRoot")
    for c in spec["containers"]:
        sc = c.get("securityContext", {})
        check(sc.get("allowPrivilegeEscalation") is False, name + ": privilege escalation allowed")
        check(sc.get("readOnlyRootFilesystem") is True, name + ": writable root filesystem")
        check(sc.get("capabilities", {}).get("drop") == ["ALL"], name + ": capabilities not dropped")
        check(not sc.get("privileged"), name + ": privileged")
        for e in c.get("env", []):
            v = str(e.get("value", ""))
            check(not re.search(r"://[^/@:]+:[^/@]+@", v), name + ": a password in " + e["name"])
    if d["kind"] == "Deployment":
        args = spec["containers"][0]["args"]
        check(spec.get("runtimeClassName") == "gvisor", name + ": not under the gvisor RuntimeClass")
        check(args[:1] == ["worker"] and "--sandbox" in args and args[args.index("--sandbox") + 1] == "process",
              name + ": the worker does not run --sandbox process")
        check(spec.get("terminationGracePeriodSeconds", 30) > grace_of(args),
              name + ": terminationGracePeriodSeconds is not above --grace")
        envs = {e["name"] for e in spec["containers"][0].get("env", [])}
        check({"TACTUS_STORE", "PGPASSFILE", "TACTUS_JOURNAL_KEY"} <= envs, name + ": store, password file or journal key missing")
deny = [p for p in by_kind.get("NetworkPolicy", []) if p["spec"].get("podSelector") == {}
        and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"} and not p["spec"].get("egress")
        and not p["spec"].get("ingress")]
check(len(deny) == 1, "no deny-all NetworkPolicy over every pod")
ns = by_kind.get("Namespace", [{}])[0]
check(ns.get("metadata", {}).get("labels", {}).get("pod-security.kubernetes.io/enforce") == "restricted",
      "the namespace does not enforce the restricted Pod Security level")
compose = yaml.safe_load(open(root + "/deploy/docker-compose.yml"))
svc = compose["services"]
check(set(svc) >= {"postgres", "migrate", "worker"}, "compose: postgres, migrate or worker missing")
check(svc["postgres"]["image"] == "postgres:15", "compose: not PostgreSQL 15")
check(svc["worker"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully",
      "compose: the workers do not wait for the migration")
check(svc["migrate"]["command"] == ["store", "migrate"], "compose: migrate does not run tactus store migrate")
wcmd = svc["worker"]["command"]
check(wcmd[0] == "worker" and "--grace" in wcmd, "compose: the worker command")
check(int(svc["worker"]["stop_grace_period"].rstrip("s")) > grace_of(wcmd), "compose: stop_grace_period is not above --grace")
for name, s in svc.items():
    for k, v in (s.get("environment") or {}).items():
        check(not re.search(r"://[^/@:]+:[^/@]+@", str(v)), "compose: a password in %s of %s" % (k, name))
    check("/var/run/docker.sock" not in str(s.get("volumes", [])), "compose: %s mounts the host's Docker socket" % name)
if errors:
    print("deploy/check: FAIL:\n  " + "\n  ".join(errors), file=sys.stderr)
    sys.exit(1)
print("deploy/check: %d Kubernetes objects and the compose file: ok" % len(docs))
PY
