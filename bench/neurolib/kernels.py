"""kernels.py: neurolib's side of `make bench` (bench/bench.lua): the kernel time of
neurolib's numba models on the workloads of bench/cases.lua, one case per argument.

    PYTHONPATH=NEUROLIB/stubs:NEUROLIB/src /usr/bin/python3 kernels.py CASE [--reps N] \
        [--cmat CMAT.csv --dmat DMAT.csv]

CASE (the same settings as bench/cases.lua's case of that name):
  aln1   one ALN node (ALNModel defaults, seed 42), 100 s at dt 0.1 ms (its default sigma_ou is 0: no noise)
  fhn80  FHNModel on HCP: coupling "additive", K_gl 0.2, x_ext 0, sigma_ou 0.05, seed 42,
         10 s at dt 0.1 ms
  aln80  ALNModel on HCP: defaults, sigma_ou 0.1, seed 42, 10 s at dt 0.1 ms
  wc80   WCModel on HCP: defaults, sigma_ou 0.05, seed 42, 10 s at dt 0.1 ms
  hopf80 HopfModel on HCP: defaults, sigma_ou 0.05, seed 42, 10 s at dt 0.1 ms
Every case records every 1 ms (params sampling_dt = 1); neuromass's side records one
variable (rates_exc, x, exc or x).
--cmat/--dmat: the HCP matrices as CSV without header (the project's
lua/neuromass/data/connectome_hcp_*.csv).

A warm-up run of 10 ms on the same model compiles neurolib's numba kernel; each of the
`--reps` timed runs is `model.run()` alone (monotonic wall clock).  Prints one JSON object
on the last line of stdout: {case, n_nodes, duration_ms, dt_ms, warmup_s, kernel_s: [one per
repetition]}.
"""

import argparse
import json
import logging
import sys
import time

import numpy as np

# case: (model class path, network?, duration ms, parameters)
CASES = {
    "aln1": ("aln", False, 100000.0, {}),
    "fhn80": ("fhn", True, 10000.0, {"coupling": "additive", "K_gl": 0.2, "sigma_ou": 0.05}),
    "aln80": ("aln", True, 10000.0, {"sigma_ou": 0.1}),
    "wc80": ("wc", True, 10000.0, {"sigma_ou": 0.05}),
    "hopf80": ("hopf", True, 10000.0, {"sigma_ou": 0.05}),
}


def read_matrix(path):
    """An N x N matrix from a CSV file without header."""
    return np.loadtxt(path, delimiter=",", ndmin=2)


def new_model(case, cmat, dmat):
    """neurolib's model of `case` with its settings, seed 42, dt 0.1 ms, sampling every 1 ms."""
    kind, network, duration, params = CASES[case]
    if kind == "aln":
        from neurolib.models.aln import ALNModel as Model
    elif kind == "wc":
        from neurolib.models.wc import WCModel as Model
    elif kind == "hopf":
        from neurolib.models.hopf import HopfModel as Model
    else:
        from neurolib.models.fhn import FHNModel as Model
    model = Model(Cmat=cmat, Dmat=dmat, seed=42) if network else Model(seed=42)
    for k, v in params.items():
        model.params[k] = v
    if kind == "fhn":
        model.params["x_ext"] = np.zeros((model.params["N"],))
    model.params["dt"] = 0.1
    model.params["sampling_dt"] = 1.0
    return model, duration


def main():
    ap = argparse.ArgumentParser(description="neurolib's kernel times for make bench")
    ap.add_argument("case", choices=sorted(CASES))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--cmat")
    ap.add_argument("--dmat")
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # neurolib logs every run
    network = CASES[args.case][1]
    if network and not (args.cmat and args.dmat):
        sys.exit(f"kernels.py: case {args.case} needs --cmat and --dmat")
    cmat = read_matrix(args.cmat) if network else None
    dmat = read_matrix(args.dmat) if network else None

    model, duration = new_model(args.case, cmat, dmat)
    model.params["duration"] = 10.0
    t0 = time.monotonic()
    model.run()  # compiles the numba kernel
    warmup_s = time.monotonic() - t0

    model.params["duration"] = duration
    times = []
    for _ in range(args.reps):
        t0 = time.monotonic()
        model.run()
        times.append(round(time.monotonic() - t0, 4))

    print(json.dumps({"case": args.case, "n_nodes": int(model.params["N"]), "duration_ms": duration,
                      "dt_ms": 0.1, "warmup_s": round(warmup_s, 3), "kernel_s": times}))


if __name__ == "__main__":
    main()
