"""PyTorch side of bench/cnn.ts: answers one JSON request per stdin line.

It is: a long-lived worker so that bench/cnn.ts can alternate gradforge's timings with
PyTorch's on the tutorial CNN (conv 32 3x3 relu, maxpool 2, conv 64 3x3 relu, maxpool 2,
conv 64 3x3 relu, flatten, dense 64 relu, dense 10), in either memory format ("contiguous" =
NCHW, or "channels_last" = NHWC in memory, PyTorch's fast path for oneDNN convolutions).
It is not: a benchmark on its own, nor a check of accuracy.

Requests:  {"cmd": "info"}  -> versions, oneDNN availability
           {"cmd": "load", "dir", "n"}  -> reads dir/x.bin (float32 [n,28,28,1]) and dir/y.bin (int32 [n])
           {"cmd": "layers", "threads", "batch", "format", "min_seconds", "names" (optional)}
                 -> {"layers": {name: {"fwd": s, "fwdbwd": s}}} for the named layers (default all):
                    seconds per call, averaged over
                    as many calls as fit in min_seconds (at least 3), after 2 warm-up calls.
                    fwd runs with autograd recording, as in training; fwdbwd adds backward of a
                    random upstream gradient into the weights and (except for conv1, whose input
                    is the data) the input, with .grad reset to None before each call.
           {"cmd": "step", "threads", "batch", "format", "steps"}
                 -> {"seconds", "samples"}: one epoch over the loaded data in shuffled batches, as
                    gradforge's fit does it: gather the batch, forward, cross-entropy, backward,
                    RMSprop step (Keras defaults: lr 1e-3, rho 0.9, eps 1e-7), batch accuracy.
"""
import time

import numpy as np
import torch
import torch.nn as nn
from jsonl_worker import serve, torch_info

FORMATS = {"contiguous": torch.contiguous_format, "channels_last": torch.channels_last}
_data = {}
_models = {}


def layer_list():
    return [
        ("conv1", nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU()), (1, 28, 28)),
        ("pool1", nn.MaxPool2d(2), (32, 26, 26)),
        ("conv2", nn.Sequential(nn.Conv2d(32, 64, 3), nn.ReLU()), (32, 13, 13)),
        ("pool2", nn.MaxPool2d(2), (64, 11, 11)),
        ("conv3", nn.Sequential(nn.Conv2d(64, 64, 3), nn.ReLU()), (64, 5, 5)),
        ("flatten", nn.Flatten(), (64, 3, 3)),
        ("dense1", nn.Sequential(nn.Linear(576, 64), nn.ReLU()), (576,)),
        ("dense2", nn.Linear(64, 10), (64,)),
    ]


def to_format(t, fmt):
    return t.contiguous(memory_format=FORMATS[fmt]) if t.dim() == 4 else t


def timed(fn, min_seconds):
    fn()
    fn()
    reps = 0
    t0 = time.perf_counter()
    while True:
        fn()
        reps += 1
        el = time.perf_counter() - t0
        if reps >= 3 and el >= min_seconds:
            return el / reps


def time_layers(threads, batch, fmt, min_seconds, names=None):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    out = {}
    for name, mod, shape in layer_list():
        if names is not None and name not in names:
            continue
        mod = mod.to(memory_format=FORMATS[fmt]) if fmt == "channels_last" else mod
        x = to_format(torch.rand((batch,) + shape), fmt)
        if name != "conv1":
            x.requires_grad_(True)
        params = list(mod.parameters())
        with torch.no_grad():
            gy = torch.randn_like(mod(x))

        def fwd():
            mod(x)

        def fwdbwd():
            for p in params:
                p.grad = None
            x.grad = None
            mod(x).backward(gy)

        out[name] = {"fwd": timed(fwd, min_seconds), "fwdbwd": timed(fwdbwd, min_seconds)}
    return {"layers": out}


def model_for(fmt):
    if fmt not in _models:
        torch.manual_seed(0)
        m = nn.Sequential(*[mod for _, mod, _ in layer_list()])
        if fmt == "channels_last":
            m = m.to(memory_format=torch.channels_last)
        opt = torch.optim.RMSprop(m.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
        _models[fmt] = (m, opt)
    return _models[fmt]


def time_steps(threads, batch, fmt):
    torch.set_num_threads(threads)
    x, y = _data[fmt], _data["y"]
    m, opt = model_for(fmt)
    n = x.shape[0]
    t0 = time.perf_counter()
    perm = torch.randperm(n)
    steps = 0
    for i in range(0, n, batch):
        idx = perm[i:i + batch]
        xb = to_format(x[idx], fmt)
        yb = y[idx]
        opt.zero_grad(set_to_none=True)
        out = m(xb)
        loss = nn.functional.cross_entropy(out, yb)
        loss.backward()
        opt.step()
        loss.item()
        (out.argmax(1) == yb).float().mean().item()  # the per-batch metric fit() reports
        steps += 1
    return {"seconds": time.perf_counter() - t0, "samples": n, "steps": steps}


def load(d, n):
    x = np.fromfile(d + "/x.bin", dtype=np.float32).reshape(n, 28, 28, 1)
    y = np.fromfile(d + "/y.bin", dtype=np.int32)
    nchw = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    _data["contiguous"] = nchw
    _data["channels_last"] = nchw.contiguous(memory_format=torch.channels_last)
    _data["y"] = torch.from_numpy(y.astype(np.int64))
    return {"loaded": n}


def main():
    serve({
        "info": lambda req: torch_info(),
        "load": lambda req: load(req["dir"], req["n"]),
        "layers": lambda req: time_layers(req["threads"], req["batch"], req["format"], req["min_seconds"], req.get("names")),
        "step": lambda req: time_steps(req["threads"], req["batch"], req["format"]),
    })

if __name__ == "__main__":
    main()
