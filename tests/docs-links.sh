#!/usr/bin/env bash
# Every relative link of README.md, docs/ and examples/README.md points at a
# file that exists (and, for #anchors into .md files, at a heading there).
#   docs-links.sh REPO
set -u
repo=$1
python3 - "$repo" <<'PY'
import os, re, sys
repo = sys.argv[1]
files = [os.path.join(repo, "README.md"), os.path.join(repo, "examples", "README.md")]
for root, _, names in os.walk(os.path.join(repo, "docs")):
    files += [os.path.join(root, n) for n in names if n.endswith(".md")]

def anchors(path):
    out = set()
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^#+\s+(.*)", line)
        if m:
            a = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            out.add(a)
    return out

bad = []
for f in files:
    text = open(f, encoding="utf-8").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code blocks hold no links
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path, _, anchor = target.partition("#")
        full = os.path.normpath(os.path.join(os.path.dirname(f), path))
        if not os.path.exists(full):
            bad.append("%s: %s (no such file)" % (os.path.relpath(f, repo), target))
        elif anchor and full.endswith(".md") and anchor not in anchors(full):
            bad.append("%s: %s (no such heading)" % (os.path.relpath(f, repo), target))
for b in bad:
    print("docs-links: " + b, file=sys.stderr)
if bad:
    sys.exit(1)
print("docs-links: %d files, every relative link resolves" % len(files))
PY
