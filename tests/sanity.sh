#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection placed at ansible_collections/crane/swarm
# (ansible-test needs that layout and resolves symlinks, so the tree is copied).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$repo/.venv}
tree=$repo/build/sanity/ansible_collections/crane/swarm
rm -rf "$repo/build/sanity"
mkdir -p "$tree"
cd "$repo"
# Tracked files plus new ones git does not ignore: what a commit would hold.
git ls-files --cached --others --exclude-standard -z | xargs -0 -I{} cp --parents {} "$tree"/
cd "$tree"
git init -q . && git add -A  # ansible-test lists the collection's files through git
# ansible-test bootstraps pip in the virtual environments it makes for the tests' own requirements
# (pylint, pycodestyle, voluptuous...) with a script from a host we cannot reach: use ours.
# ansible-core 2.19's ansible-test bootstraps pip 24.2 (a newer ansible-test names its version
# in the "Download failed" message: change it here).
pip_version=24.2
mkdir -p ~/.ansible/test/cache
cp "$repo/tests/tools/get_pip_standin.py" ~/.ansible/test/cache/get_pip_${pip_version//./_}.py
export PATH=$venv/bin:$PATH
# --local: ansible-test itself runs from our venv (it is ansible-core's own); each test's
# requirements still live in ansible-test's cached venvs. --venv made a fresh controller venv
# on every run (5 to 13 s, and a download of pip from PyPI) for the same tests and results.
exec ansible-test sanity --local --python 3.11 --color no "$@"
