#!/usr/bin/env python3
"""The tutorial CNN's training step in PyTorch CUDA fp32, beside native/tests/bench_cuda_cnn.cu.

    python3 bench/torch_cnn_cuda.py [batch [steps]]      (scripts/gpu-check.sh runs it)

The same model, batch, data shapes, loss and optimizer as bench_cuda_cnn: conv 32 3x3 relu,
maxpool 2, conv 64 3x3 relu, maxpool 2, conv 64 3x3 relu, flatten, dense 64 relu, dense 10,
cross-entropy (mean), RMSprop(lr 1e-3, alpha 0.9, eps 1e-7); random 28x28 inputs, the same batch
every step. PyTorch at its best for this: channels_last (cuDNN's NHWC kernels), cudnn.benchmark
on, TF32 off (fp32 FMA, as gradforge computes). Timing as bench_cuda_cnn: 3 warm-up steps, then
the median of 5 blocks of `steps` steps, each block ended by torch.cuda.synchronize().
"""
import statistics
import sys
import time

import torch
from torch import nn


def main() -> int:
    batch = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    if not torch.cuda.is_available():
        print("torch_cnn_cuda: no CUDA device for PyTorch, nothing to time")
        return 0
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(1)
    dev = torch.device("cuda")
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3), nn.ReLU(),
        nn.Flatten(), nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10),
    ).to(dev).to(memory_format=torch.channels_last)
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(batch, 1, 28, 28, device=dev).to(memory_format=torch.channels_last)
    y = torch.arange(batch, device=dev) * 7 % 10

    def step() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    first = step().item()
    for _ in range(2):
        step()
    torch.cuda.synchronize()
    ms = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(steps):
            loss = step()
        torch.cuda.synchronize()
        ms.append((time.perf_counter() - t0) * 1000 / steps)
    med = statistics.median(ms)
    print(f"torch_cnn_cuda: PyTorch {torch.__version__} on {torch.cuda.get_device_name(0)}, batch {batch}: "
          f"{med:.3f} ms/step (blocks {min(ms):.3f}-{max(ms):.3f}), {batch * 1000 / med:.0f} samples/s; "
          f"loss {first:.4f} at the first step, {loss.item():.4f} after {3 + 5 * steps}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
