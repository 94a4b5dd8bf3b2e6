#!/usr/bin/env bash
# Regenerates the PyTorch-written fixtures in tests/Backprop.Tests/IO/Fixtures/torch/ with libtorch, and has libtorch
# read back the files Backprop wrote (tests/Backprop.Tests/IO/Fixtures/backprop/, written by the test suite with
# BACKPROP_WRITE_FIXTURES=1). Run it by hand; the tests never run it.
#   tools/torch-fixtures/generate.sh write   |   tools/torch-fixtures/generate.sh check
# Versions used for the committed files: TorchSharp-cpu 0.107.0 (libtorch 2.10.0 CPU), TorchSharp.PyBridge 1.4.4, .NET 10.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fixtures="$here/../../tests/Backprop.Tests/IO/Fixtures"
work="${TMPDIR:-/tmp}/backprop-torch-fixtures"
mkdir -p "$work"
dotnet build "$here/TorchFixtures.csproj" -c Release -o "$work/out" -v q -nologo
packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
cp "$(find "$packages/libtorch-cpu-linux-x64" -type d -name native | head -1)"/* "$work/out/"
cp "$(find "$packages/torchsharp" -name libLibTorchSharp.so -path '*linux-x64*' | head -1)" "$work/out/libLibTorchSharp.so"
# TorchSharp 0.107's glue asks for libstdc++'s GLIBCXX_3.4.32 (GCC 13) for a single symbol that older systems provide
# under another name; where the system's libstdc++ is older, point that one requirement at 3.4.30 and supply the symbol.
if ! strings "$(g++ -print-file-name=libstdc++.so.6)" | grep -q GLIBCXX_3.4.32; then
  python3 "$here/relax_symbol_version.py" "$work/out/libLibTorchSharp.so" GLIBCXX_3.4.32 GLIBCXX_3.4.30
  printf '#include <ios>\nnamespace std { void ios_base_library_init() { static std::ios_base::Init init; } }\n' > "$work/ios_init.cpp"
  g++ -shared -fPIC -O2 -o "$work/libios_init.so" "$work/ios_init.cpp"
  export LD_PRELOAD="$work/libios_init.so"
fi
"$work/out/TorchFixtures" "${1:-write}" "$fixtures"
