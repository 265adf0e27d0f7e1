"""numpy (OpenBLAS) side of bench/gemm.ts: answers one JSON request per stdin line.

It is: a long-lived worker so that bench/gemm.ts can alternate its own timings with numpy's
(machine noise then hits both alike). It is not: a benchmark on its own.

Requests:  {"cmd": "info"}                      -> numpy/OpenBLAS versions and kernel (core) name
           {"cmd": "time", "m","k","n", "ta","tb", "threads", "reps"}
                                                -> {"seconds": per-call time over `reps` calls}
ta / tb (optional): A is stored k x m and multiplied as its transposed view (B: n x k), which
numpy hands to OpenBLAS's sgemm as a transpose flag, as gradforge's backward passes do.
OpenBLAS threads are set per request, with threadpoolctl when it is installed, else through
OpenBLAS's own C API (found in the process's loaded libraries).
"""
import ctypes
import time

import numpy as np
from jsonl_worker import serve

_lib = None
_prefix = ""


def _find_openblas():
    global _lib, _prefix
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line})
    except OSError:
        paths = []
    for p in paths:
        try:
            lib = ctypes.CDLL(p)
        except OSError:
            continue
        for prefix in ("scipy_openblas_", "openblas_"):
            for suffix in ("64_", ""):
                if hasattr(lib, prefix + "get_corename" + suffix):
                    _lib, _prefix = lib, (prefix, suffix)
                    return


def _call(name, restype, *args):
    if _lib is None:
        return None
    fn = getattr(_lib, _prefix[0] + name + _prefix[1], None)
    if fn is None:
        return None
    fn.restype = restype
    return fn(*args)


try:
    import threadpoolctl  # type: ignore
except ImportError:
    threadpoolctl = None

_find_openblas()


def info():
    out = {"numpy": np.__version__, "threadpoolctl": None, "openblas": None}
    if threadpoolctl is not None:
        out["threadpoolctl"] = [
            {k: v for k, v in d.items() if k in ("internal_api", "version", "architecture", "num_threads", "filepath")}
            for d in threadpoolctl.threadpool_info()
        ]
    core = _call("get_corename", ctypes.c_char_p)
    config = _call("get_config", ctypes.c_char_p)
    if core is not None or config is not None:
        out["openblas"] = {
            "corename": core.decode() if core else None,
            "config": config.decode() if config else None,
            "num_threads": _call("get_num_threads", ctypes.c_int),
        }
    return out


def set_threads(n):
    if threadpoolctl is not None:
        return threadpoolctl.threadpool_limits(limits=n, user_api="blas")
    _call("set_num_threads", None, ctypes.c_int(n))
    return None


_arrays = {}


def arrays(m, k, n, ta, tb):
    key = (m, k, n, ta, tb)
    if key not in _arrays:
        rng = np.random.default_rng(1)
        a = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(np.float32)
        b = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(np.float32)
        c = np.empty((m, n), np.float32)
        _arrays[key] = (a.T if ta else a, b.T if tb else b, c)
    return _arrays[key]


def time_gemm(m, k, n, ta, tb, threads, reps):
    a, b, c = arrays(m, k, n, ta, tb)
    ctx = set_threads(threads)
    try:
        np.matmul(a, b, out=c)
        t0 = time.perf_counter()
        for _ in range(reps):
            np.matmul(a, b, out=c)
        return (time.perf_counter() - t0) / reps
    finally:
        if ctx is not None:
            ctx.restore_original_limits()


def main():
    serve({
        "info": lambda req: info(),
        "time": lambda req: {"seconds": time_gemm(req["m"], req["k"], req["n"], req.get("ta", False), req.get("tb", False),
                                                   req["threads"], req["reps"])},
    })

if __name__ == "__main__":
    main()
