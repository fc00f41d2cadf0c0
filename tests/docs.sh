#!/usr/bin/env bash
# The changelog and the documentation site, as a release would publish them.
#   - antsibull-changelog lints the fragments and changelogs/changelog.yaml, CHANGELOG.rst is what
#     `antsibull-changelog generate` writes from it, and galaxy.yml's version is its latest release;
#   - antsibull-docs lints the collection's docs (plugins, roles, docs/docsite/extra-docs.yml) and
#     builds the docsite (.tmp/docsite/build/html): RST for every plugin, role and guide, then Sphinx.
# Offline, Sphinx cannot fetch docs.ansible.com's inventory, so references into Ansible's own docs stay
# unresolved; every other warning fails the step.
set -euo pipefail
cd "$(dirname "$0")/.."

antsibull-changelog lint
antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
rm -rf .tmp/changelog && mkdir -p .tmp/changelog
cp -r galaxy.yml changelogs .tmp/changelog/
rm -rf .tmp/changelog/changelogs/fragments && mkdir .tmp/changelog/changelogs/fragments
(cd .tmp/changelog && antsibull-changelog generate)
if ! diff -u CHANGELOG.rst .tmp/changelog/CHANGELOG.rst; then
    echo "docs: CHANGELOG.rst is not what antsibull-changelog generate writes (run it)" >&2
    exit 1
fi
latest=$(python3 -c 'import sys, yaml
from packaging.version import Version
print(max(yaml.safe_load(open(sys.argv[1]))["releases"], key=Version))' changelogs/changelog.yaml)
version=$(sed -n 's/^version: *//p' galaxy.yml)
if [ "$version" != "$latest" ]; then
    echo "docs: galaxy.yml says $version, the changelog's latest release is $latest" >&2
    exit 1
fi

antsibull-docs lint-collection-docs --plugin-docs .

site=.tmp/docsite
rm -rf "$site" && mkdir -p "$(dirname "$site")" && mkdir -m 0700 "$site"
antsibull-docs sphinx-init --use-current --dest-dir "$site" meshforge.vpn >/dev/null
chmod 0700 "$site/rst"
(cd "$site" && antsibull-docs --config-file antsibull-docs.cfg collection --cleanup everything \
    --use-current --dest-dir rst meshforge.vpn >/dev/null)
sphinx-build -q -b html -c "$site" -w "$site/warnings.txt" "$site/rst" "$site/build/html" 2>/dev/null || true
own=$(grep -vP "failed to reach any of the inventories|^intersphinx inventory |undefined label: '(?!ansible_collections\.meshforge\.vpn)" \
    "$site/warnings.txt" || true)
if [ -n "$own" ] || [ ! -f "$site/build/html/index.html" ]; then
    echo "docs: the docsite build warned (or wrote no index.html):" >&2
    echo "$own" >&2
    exit 1
fi
pages=$(find "$site/build/html" -name '*.html' | wc -l)
echo "docs: changelog up to date (galaxy.yml $version), docs lint clean, docsite built: $pages pages in $site/build/html"
