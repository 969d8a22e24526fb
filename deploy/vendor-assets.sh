#!/usr/bin/env bash
# Fetch the dashboard's third-party assets from the npm registry into api/static/vendor/.
#
# The dashboard loads nothing from a CDN at run time (issue 8): the files are committed,
# and this script is how they got there. Run it to upgrade: change VERSION and SHA256,
# run it, check the page (tests/e2e/test_dashboard.py), commit the result.
# Needs npm (for `npm pack`, which downloads the published tarball without installing).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=1.6.32   # uPlot, MIT, https://github.com/leeoniya/uPlot
SHA256=4b8a8191e425658e3ea8c8c1314b0fc679c861ee3a1af2b20c7b16ba50b5133d  # of the npm tarball
DEST=api/static/vendor/uplot

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "uplot@$VERSION" >/dev/null)
tarball="$work/uplot-$VERSION.tgz"
echo "$SHA256  $tarball" | sha256sum --check --quiet
tar -xzf "$tarball" -C "$work"
mkdir -p "$DEST"
# The minified browser build defines a global `uPlot`; api/static/js/charts.js wraps it.
cp "$work/package/dist/uPlot.iife.min.js" "$work/package/dist/uPlot.min.css" \
   "$work/package/LICENSE" "$DEST/"
echo "uplot $VERSION" > "$DEST/VERSION"
echo "vendored uPlot $VERSION into $DEST"
