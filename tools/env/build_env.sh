#!/usr/bin/env bash
# Build (or reuse) the postometro_mm virtual environment and link it as ./.venv.
#
# The environment lives outside the work tree, in
#   ${POSTOMETRO_ENV_CACHE:-$HOME/.cache/postometro_mm}/envs/<hash>
# where <hash> covers the pinned requirement files and this script, so a second run on the same
# machine only re-links it. The mmcv wheel compiled from the sdist (~12 min on 2 cores) is cached
# separately, keyed by the torch and mmcv pins, so other requirement changes do not recompile it.
#
# GPU users: run with FORCE_CUDA=1 (and a CUDA toolkit matching torch) to compile mmcv's CUDA ops;
# the cache key then differs, so CPU and CUDA builds do not mix.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${POSTOMETRO_ENV_CACHE:-$HOME/.cache/postometro_mm}
python=${PYTHON:-python3}
req="$repo/requirements"
force_cuda=${FORCE_CUDA:-0}

key=$(cat "$req"/build.txt "$req"/torch.txt "$req"/openmmlab.txt "$req"/runtime.txt \
          "$req"/tests.txt "${BASH_SOURCE[0]}" | { cat; echo "cuda=$force_cuda"; \
          "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -c1-16)
env_dir="$cache/envs/$key"
mmcv_key=$(cat "$req"/torch.txt "$req"/openmmlab.txt | { cat; echo "cuda=$force_cuda"; \
          "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -c1-16)
wheel_dir="$cache/mmcv-wheels/$mmcv_key"

log() { printf '[build_env %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

link_env() {
    ln -sfn "$env_dir" "$repo/.venv"
    log "environment ready: $repo/.venv -> $env_dir"
}

if [[ -f "$env_dir/.complete" ]]; then
    link_env
    exit 0
fi

start=$SECONDS
rm -rf "$env_dir"
mkdir -p "$cache/envs" "$wheel_dir"
log "creating $env_dir"
"$python" -m venv "$env_dir"
pip=("$env_dir/bin/python" -m pip --disable-pip-version-check)

"${pip[@]}" install -q -U -r "$req/build.txt"
log "installing torch (wheels from the machine's disk where present)"
"${pip[@]}" install -q -r "$req/torch.txt"
log "installing runtime requirements"
"${pip[@]}" install -q -r "$req/runtime.txt"

mmcv_version=$(sed -n 's/^mmcv==\(.*\)$/\1/p' "$req/openmmlab.txt")
if ! ls "$wheel_dir"/mmcv-"$mmcv_version"-*.whl >/dev/null 2>&1; then
    log "compiling mmcv $mmcv_version from its sdist (about 12 minutes on 2 cores)"
    src=$(mktemp -d)
    trap 'rm -rf "$src"' EXIT
    "${pip[@]}" download -q --no-deps --no-binary :all: --no-build-isolation -d "$src" "mmcv==$mmcv_version"
    tar xzf "$src/mmcv-$mmcv_version.tar.gz" -C "$src"
    # torch >= 2.14 headers need C++20; mmcv's setup.py hard-codes -std=c++17.
    sed -i 's/-std=c++17/-std=c++20/g' "$src/mmcv-$mmcv_version/setup.py"
    MAX_JOBS=${MAX_JOBS:-$(nproc)} FORCE_CUDA=$force_cuda MMCV_WITH_OPS=1 \
        "${pip[@]}" wheel -q --no-deps --no-build-isolation -w "$src/wheel" "$src/mmcv-$mmcv_version"
    mv "$src"/wheel/mmcv-*.whl "$wheel_dir/"
fi
log "installing mmcv from $wheel_dir"
"${pip[@]}" install -q --no-deps "$wheel_dir"/mmcv-"$mmcv_version"-*.whl
log "installing mmpose and mmdet (without their declared deps: chumpy does not build on 3.11)"
"${pip[@]}" install -q --no-deps $(grep -E '^mm(pose|det)==' "$req/openmmlab.txt")
"${pip[@]}" install -q -r "$req/tests.txt" -r "$req/runtime.txt"

log "checking imports"
"$env_dir/bin/python" - <<'PY'
import mmcv, mmcv.ops, mmdet, mmengine, mmpose, smplx, torch, torchvision, pkg_resources  # noqa
print('torch', torch.__version__, 'mmcv', mmcv.__version__, 'mmpose', mmpose.__version__,
      'mmdet', mmdet.__version__, 'mmengine', mmengine.__version__)
PY
touch "$env_dir/.complete"
log "built in $((SECONDS - start)) s"
link_env
