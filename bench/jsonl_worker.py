# The loop every bench/ Python worker runs: one JSON request per stdin line ({"cmd": ..., ...}),
# one JSON line back on stdout; an exception is reported as {"error": ...} and the worker keeps
# serving (bench/util.ts PythonWorker is the other end). Not a worker on its own.
import json
import sys


def serve(handlers):
    """handlers: {cmd: fn(request) -> result dict}."""
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        try:
            fn = handlers.get(req.get("cmd"))
            res = fn(req) if fn is not None else {"error": "unknown cmd " + str(req.get("cmd"))}
        except Exception as e:  # report, keep serving
            res = {"error": repr(e)}
        sys.stdout.write(json.dumps(res) + "\n")
        sys.stdout.flush()


def torch_info():
    """What the PyTorch workers report for cmd 'info'."""
    import numpy as np
    import torch

    return {
        "torch": torch.__version__,
        "mkldnn": bool(torch.backends.mkldnn.is_available()),
        "numpy": np.__version__,
        "defaultThreads": torch.get_num_threads(),
    }
