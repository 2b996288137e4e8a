#!/usr/bin/env bash
# Packs TaskResults.Contracts into artifacts/packages/ (Release) and checks that the package holds
# every target framework and the README. CI runs it from scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

out=artifacts/packages
rm -f "$out"/TaskResults.Contracts.*.nupkg
dotnet pack src/TaskResults.Contracts -c Release -o "$out" -nologo -v quiet

python3 - "$out"/TaskResults.Contracts.*.nupkg <<'PY'
import sys, zipfile
package = sys.argv[1]
names = set(zipfile.ZipFile(package).namelist())
wanted = ["README.md", "TaskResults.Contracts.nuspec"] + [
    f"lib/{tfm}/TaskResults.Contracts.{ext}" for tfm in ("netstandard2.0", "net8.0", "net10.0") for ext in ("dll", "xml")]
missing = [name for name in wanted if name not in names]
if missing:
    sys.exit(f"{package} lacks {', '.join(missing)}")
print(f"{package}: " + ", ".join(sorted(n for n in names if n.startswith("lib/") or n == "README.md")))
PY
