# Windows installer for Ferry: PyInstaller folder, then Inno Setup. UNTESTED HERE.
# Needs: Python 3.11+ (python.org or `winget install Python.Python.3.12`) and Inno Setup 6
# (`winget install JRSoftware.InnoSetup`). Run from anywhere:
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1
# Output: dist\ferry\ (the bundle) and dist\ferry-<version>-setup.exe.
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")

py -3 packaging\build.py --no-deb
if ($LASTEXITCODE -ne 0) { throw "packaging\build.py failed" }

$version = & .venv\Scripts\python.exe -c "import tomllib; print(tomllib.load(open('pyproject.toml', 'rb'))['project']['version'])"
$iscc = Join-Path ${env:ProgramFiles(x86)} "Inno Setup 6\ISCC.exe"
if (-not (Test-Path $iscc)) { $iscc = "iscc" }
& $iscc "/DAppVersion=$version" packaging\windows\ferry.iss
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
Get-Item "dist\ferry-$version-setup.exe"
