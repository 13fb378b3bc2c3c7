#!/usr/bin/env bash
# Prepares TorchSharp (libtorch, CPU) as the benchmark peer, in the private folder bench/.torchsharp/native.
#
# Why: TorchSharp's prebuilt libLibTorchSharp.so was linked against GCC 13's libstdc++ and asks for
# GLIBCXX_3.4.32, whose only symbol it uses is std::ios_base_library_init(); Debian 12's libstdc++ stops at
# 3.4.30, so the library does not load. On a private copy (the NuGet cache is never modified) we
#   1. build a one-function shim library that defines std::ios_base_library_init(),
#   2. patchelf --clear-symbol-version that symbol, --add-needed the shim, --set-rpath '$ORIGIN'
#      (so the copy finds the shim and libtorch beside itself),
#   3. mark the GLIBCXX_3.4.32 requirement weak (VER_FLG_WEAK) so the loader only warns.
# The bench then NativeLibrary.Load()s the copy before its first TorchSharp call (bench/Ember.Bench/Peers/TorchPeer.cs).
# Needs: dotnet, g++, python3, patchelf (installed with apt-get when missing). Idempotent; --force redoes it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/.torchsharp/native"
if [ -f "$out/.done" ] && [ "${1:-}" != "--force" ]; then echo "TorchSharp peer already set up in $out"; exit 0; fi

if ! command -v patchelf >/dev/null; then
  echo "installing patchelf" >&2
  apt-get update -qq && apt-get install -y -qq patchelf >/dev/null
fi
for tool in g++ python3 dotnet; do command -v $tool >/dev/null || { echo "setup-torchsharp: $tool is required" >&2; exit 1; }; done

# Restoring the bench puts TorchSharp and libtorch into the NuGet cache; the assets file names the exact versions.
dotnet restore "$here/Ember.Bench/Ember.Bench.csproj" -v q >/dev/null
assets="$here/Ember.Bench/obj/project.assets.json"
read -r cache torchsharp libtorch < <(python3 - "$assets" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
libs = a["libraries"]
def version(name):
    hits = [k.split("/")[1] for k in libs if k.lower().startswith(name + "/")]
    if not hits: sys.exit(f"setup-torchsharp: {name} not in {sys.argv[1]}")
    return hits[0]
folders = list(a["packageFolders"])
print(folders[0].rstrip("/"), version("torchsharp"), version("libtorch-cpu-linux-x64"))
PY
)
ts_native="$cache/torchsharp/$torchsharp/runtimes/linux-x64/native"
lt_native="$cache/libtorch-cpu-linux-x64/$libtorch/runtimes/linux-x64/native"
[ -f "$ts_native/libLibTorchSharp.so" ] || { echo "setup-torchsharp: missing $ts_native/libLibTorchSharp.so" >&2; exit 1; }

rm -rf "$out"; mkdir -p "$out"
echo "copying libtorch $libtorch and TorchSharp $torchsharp native libraries into $out" >&2
# libtorch_python and the test/backends libraries are not needed by TorchSharp.
for f in "$lt_native"/*; do
  case "$(basename "$f")" in libtorch_python.so|*test*|libnnapi_backend.so|libbackend_with_compiler.so|libaoti_custom_ops.so) continue;; esac
  cp "$f" "$out/"
done
cp "$ts_native/libLibTorchSharp.so" "$out/"
chmod u+w "$out"/*

g++ -shared -fPIC -O2 -o "$out/libiosinit_shim.so" "$here/torchsharp/ios_init_shim.cpp"
lib="$out/libLibTorchSharp.so"
patchelf --clear-symbol-version _ZSt21ios_base_library_initv "$lib"
patchelf --add-needed libiosinit_shim.so "$lib"
patchelf --set-rpath '$ORIGIN' "$lib"
python3 "$here/torchsharp/weaken_version.py" "$lib" GLIBCXX_3.4.32
echo "$torchsharp $libtorch" > "$out/.done"
echo "TorchSharp peer ready in $out"
