#!/usr/bin/env bash
# The one GPU visit of issue 14 (a machine with an NVIDIA GPU, nvcc, CMake, ninja; no Node
# needed): builds the kernels and C++ tests with plain CMake for this GPU's architecture, runs
# every test_cuda_* binary on the device, compute-sanitizer memcheck and racecheck on small
# shapes, the SGEMM bench (cuBLAS beside it when the toolkit has it), and the tutorial CNN's
# training step at batch 256 (bench_cuda_cnn) beside PyTorch CUDA fp32 (bench/torch_cnn_cuda.py). Writes everything
# under ${OUT:-gpu-check-out}/ and prints a summary. Usage: bash scripts/gpu-check.sh [arch]
set -u
export PATH="$PATH:/usr/local/cuda/bin"  # compute-sanitizer lives beside nvcc in the toolkit
cd "$(dirname "$0")/.."
arch=${1:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '.')}
arch=${arch:-90}
out=${OUT:-gpu-check-out}
mkdir -p "$out"
log() { echo "gpu-check: $*" | tee -a "$out/summary.txt"; }
nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || log "nvidia-smi failed"
log "architecture sm_$arch"
t0=$(date +%s)
if ! cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DGRADFORGE_CUDA=ON \
     -DGRADFORGE_BUILD_TESTS=ON -DCMAKE_CUDA_ARCHITECTURES="$arch" > "$out/configure.txt" 2>&1 ||
   ! cmake --build build-gpu -j "$(nproc)" > "$out/build.txt" 2>&1; then
  log "BUILD FAILED (see $out/build.txt)"; tail -30 "$out/build.txt"; exit 1
fi
log "built in $(( $(date +%s) - t0 )) s"
fails=0
for t in build-gpu/test_cuda_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  [ "$name" = test_cuda_emulated ] && continue  # the host emulation: CI runs it
  "$t" > "$out/$name.txt" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then log "ok   $name: $(tail -1 "$out/$name.txt")"
  elif [ $rc -eq 77 ]; then fails=$((fails + 1)); log "SKIP $name (no usable device: $(tail -1 "$out/$name.txt"))"
  else fails=$((fails + 1)); log "FAIL $name (exit $rc): $(tail -3 "$out/$name.txt" | tr '\n' ' ')"; fi
done
if command -v compute-sanitizer >/dev/null 2>&1; then
  for tool in memcheck racecheck; do
    for t in build-gpu/test_cuda_*; do
      name=$(basename "$t")
      [ "$name" = test_cuda_emulated ] && continue
      if GF_CUDA_SMALL=1 compute-sanitizer --tool "$tool" --error-exitcode 9 "$t" > "$out/$tool-$name.txt" 2>&1; then
        log "ok   $tool $name"
      else fails=$((fails + 1)); log "FAIL $tool $name: $(grep -m3 -E 'ERROR|Invalid|hazard' "$out/$tool-$name.txt" | tr '\n' ' ')"; fi
    done
  done
else
  log "compute-sanitizer not found: memcheck/racecheck not run"
fi
build-gpu/bench_cuda 1024 2048 4096 8192 > "$out/bench_cuda.txt" 2>&1 || log "bench_cuda exited $?"
cat "$out/bench_cuda.txt" | tee -a "$out/summary.txt"
# the tutorial CNN's training step at batch 256, gradforge's kernels then PyTorch CUDA fp32
build-gpu/bench_cuda_cnn 256 20 > "$out/bench_cuda_cnn.txt" 2>&1 || { fails=$((fails + 1)); log "FAIL bench_cuda_cnn exited $? (its loss must fall)"; }
cat "$out/bench_cuda_cnn.txt" | tee -a "$out/summary.txt"
if python3 -c 'import torch' 2>/dev/null; then
  python3 bench/torch_cnn_cuda.py 256 20 > "$out/torch_cnn_cuda.txt" 2>&1 || log "torch_cnn_cuda exited $?"
  cat "$out/torch_cnn_cuda.txt" | tee -a "$out/summary.txt"
else
  log "no PyTorch: the CNN step has no reference here"
fi
log "$fails failure(s) in $(( $(date +%s) - t0 )) s"
exit $(( fails > 0 ))
