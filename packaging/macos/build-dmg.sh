#!/usr/bin/env bash
# macOS disk image for Ferry: PyInstaller's Ferry.app, then hdiutil. UNTESTED HERE.
# Needs: Python 3.11+ (python.org or Homebrew) and the Xcode command-line tools (hdiutil,
# codesign ship with macOS). Build on the architecture you ship (arm64 or x86_64).
#   bash packaging/macos/build-dmg.sh
# Optional signing and notarisation (Gatekeeper blocks unsigned apps downloaded from the web):
#   CODESIGN_IDENTITY="Developer ID Application: ..." NOTARY_PROFILE=ferry bash ...
#   (NOTARY_PROFILE: a profile stored with `xcrun notarytool store-credentials`).
# Output: dist/Ferry.app and dist/Ferry-<version>.dmg.
set -euo pipefail
cd "$(dirname "$0")/../.."

python3 packaging/build.py --no-deb
version=$(.venv/bin/python -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
app=dist/Ferry.app
dmg="dist/Ferry-$version.dmg"

if [[ -n "${CODESIGN_IDENTITY:-}" ]]; then
  codesign --force --deep --options runtime --timestamp --sign "$CODESIGN_IDENTITY" "$app"
fi

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"   # drag-to-install
rm -f "$dmg"
hdiutil create -volname "Ferry $version" -srcfolder "$staging" -fs HFS+ -format UDZO "$dmg"

if [[ -n "${CODESIGN_IDENTITY:-}" && -n "${NOTARY_PROFILE:-}" ]]; then
  codesign --sign "$CODESIGN_IDENTITY" --timestamp "$dmg"
  xcrun notarytool submit "$dmg" --keychain-profile "$NOTARY_PROFILE" --wait
  xcrun stapler staple "$dmg"
fi
echo "$dmg"
