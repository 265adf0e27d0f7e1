"""PyTorch side of bench/infer.ts: answers one JSON request per stdin line.

It is: a long-lived worker so that bench/infer.ts can alternate gradforge's and
onnxruntime-node's inference timings with PyTorch's, on the same models with the same
weights (written by bench/infer.ts from the gradforge layers), timed here per call with
time.perf_counter_ns under torch.inference_mode(), in eval mode.
It is not: a benchmark on its own, nor a check of accuracy (bench/infer.ts compares outputs).

Layouts. The input arrives as gradforge's NHWC. An image model is built in two memory
formats and bench/infer.ts times the faster one (PyTorch at its best, as bench/cnn.ts does):
"channels_last" permutes the input to an NCHW view (no copy: NHWC memory seen as NCHW is
PyTorch's channels_last format, its oneDNN fast path) with the conv weights channels_last too;
"contiguous" copies the input into NCHW inside the timed call (the transpose onnxruntime's
graph also makes) and runs the default format. Keras's Flatten runs over (h, w, c), so the
flatten permutes back to NHWC before flattening.
Conv kernels come as gradforge's (KH, KW, C, O) and become (O, C, KH, KW); Dense kernels come
as (in, out) and become Linear's (out, in).

Requests:  {"cmd": "info"} -> versions, oneDNN availability
           {"cmd": "model", "name", "dir", "layers": [...]} -> {"formats": [...]} builds a model
                 (an image model in both formats, a dense one in "contiguous"); each layer is
                 {"type": "dense", "activation", "kernel": [file, shape], "bias": [file, shape] | null}
                 {"type": "conv2d", "activation", "strides", "kernel", "bias"}   (padding 'valid')
                 {"type": "maxpool", "pool", "strides"}                          (padding 'valid')
                 {"type": "flatten"}
                 files are float32 little-endian in dir
           {"cmd": "input", "name", "file", "shape"} -> stores an input tensor
           {"cmd": "predict", "model", "format", "input"} -> {"out": [...]} the output, flat
           {"cmd": "time", "model", "format", "input", "threads", "calls"} -> {"ns": [...]} per-call latencies
"""
import os
import time

import numpy as np
import torch
import torch.nn as nn
from jsonl_worker import serve, torch_info

_models = {}
_inputs = {}


class ToNCHW(nn.Module):
    def __init__(self, copy):
        super().__init__()
        self.copy = copy

    def forward(self, x):
        x = x.permute(0, 3, 1, 2)
        return x.contiguous() if self.copy else x


class FlattenHWC(nn.Module):
    """Keras's Flatten of NHWC: (h, w, c) order."""

    def forward(self, x):
        if x.dim() == 4:
            x = x.permute(0, 2, 3, 1)
        return x.reshape(x.shape[0], -1)


def activation(name):
    if name == "linear":
        return []
    if name == "relu":
        return [nn.ReLU()]
    if name == "softmax":
        return [nn.Softmax(dim=-1)]
    if name == "sigmoid":
        return [nn.Sigmoid()]
    if name == "tanh":
        return [nn.Tanh()]
    raise ValueError("activation " + name)


def load(d, ref):
    f, shape = ref
    return np.fromfile(os.path.join(d, f), dtype="<f4").reshape(shape)


def build(d, layers, fmt):
    mods = []
    images = False
    for l in layers:
        t = l["type"]
        if t == "conv2d":
            if not images:
                mods.append(ToNCHW(fmt == "contiguous"))
                images = True
            k = load(d, l["kernel"])  # (KH, KW, C, O)
            kh, kw, c, o = k.shape
            conv = nn.Conv2d(c, o, (kh, kw), stride=tuple(l["strides"]), bias=l["bias"] is not None)
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(k.transpose(3, 2, 0, 1))))
                if l["bias"] is not None:
                    conv.bias.copy_(torch.from_numpy(load(d, l["bias"])))
            mods.append(conv)
            mods += activation(l["activation"])
        elif t == "maxpool":
            if not images:
                mods.append(ToNCHW(fmt == "contiguous"))
                images = True
            mods.append(nn.MaxPool2d(tuple(l["pool"]), stride=tuple(l["strides"])))
        elif t == "flatten":
            mods.append(FlattenHWC())
        elif t == "dense":
            k = load(d, l["kernel"])  # (in, out)
            lin = nn.Linear(k.shape[0], k.shape[1], bias=l["bias"] is not None)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(k.T)))
                if l["bias"] is not None:
                    lin.bias.copy_(torch.from_numpy(load(d, l["bias"])))
            mods.append(lin)
            mods += activation(l["activation"])
        else:
            raise ValueError("layer type " + t)
    m = nn.Sequential(*mods).eval()
    if fmt == "channels_last":
        m = m.to(memory_format=torch.channels_last)
    return m, images


def time_calls(m, x, threads, calls):
    torch.set_num_threads(threads)
    out = []
    with torch.inference_mode():
        for _ in range(calls):
            t0 = time.perf_counter_ns()
            m(x)
            out.append(time.perf_counter_ns() - t0)
    return {"ns": out}


def add_model(req):
    m, images = build(req["dir"], req["layers"], "contiguous")
    _models[(req["name"], "contiguous")] = m
    formats = ["contiguous"]
    if images:
        _models[(req["name"], "channels_last")] = build(req["dir"], req["layers"], "channels_last")[0]
        formats.append("channels_last")
    return {"formats": formats}


def add_input(req):
    a = np.fromfile(req["file"], dtype="<f4").reshape(req["shape"])
    _inputs[req["name"]] = torch.from_numpy(a)
    return {"ok": True}


def predict(req):
    with torch.inference_mode():
        y = _models[(req["model"], req["format"])](_inputs[req["input"]])
    return {"out": y.contiguous().reshape(-1).tolist()}


def main():
    serve({
        "info": lambda req: torch_info(),
        "model": add_model,
        "input": add_input,
        "predict": predict,
        "time": lambda req: time_calls(_models[(req["model"], req["format"])], _inputs[req["input"]], req["threads"], req["calls"]),
    })

if __name__ == "__main__":
    main()
