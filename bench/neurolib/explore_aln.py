"""explore_aln.py: neurolib's side of the exploration row of `make bench` (bench/bench.lua):
examples/explore_aln.lua's grid run as a plain neurolib loop, one ALNModel run per point.

    PYTHONPATH=NEUROLIB/stubs:NEUROLIB/src /usr/bin/python3 explore_aln.py --cmat GW_CMAT.csv \
        --dmat GW_DMAT.csv [--side 4] [--reps N]

ALNModel on gw (80 nodes, its defaults), a SIDE x SIDE grid of mue_ext_mean x mui_ext_mean from 0
to 3 mV/ms (the first slowest), each point 2 s at dt 0.1 ms, rates_exc every 1 ms (sampling_dt
1), seed 42; per point the largest excitatory rate after 500 ms and the dominant frequency of
the mean rate's spectrum (neurolib.utils.functions.getPowerSpectrum, maxfr 70), as the
neuromass case bench/cases.lua explore_aln computes them.  A warm-up run of 10 ms compiles
neurolib's numba kernel first.  Prints one JSON object on the last line of stdout:
{case, points, kernel_s: [the loop's wall time per point, one per repetition]}.
"""

import argparse
import json
import logging
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser(description="neurolib's exploration loop for make bench")
    ap.add_argument("--cmat", required=True)
    ap.add_argument("--dmat", required=True)
    ap.add_argument("--side", type=int, default=4)
    ap.add_argument("--reps", type=int, default=1)
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # neurolib logs every run
    from neurolib.models.aln import ALNModel
    from neurolib.utils.functions import getPowerSpectrum

    cmat = np.loadtxt(args.cmat, delimiter=",", ndmin=2)
    dmat = np.loadtxt(args.dmat, delimiter=",", ndmin=2)
    model = ALNModel(Cmat=cmat, Dmat=dmat, seed=42)
    model.params["dt"] = 0.1
    model.params["sampling_dt"] = 1.0
    model.params["duration"] = 10.0
    model.run()  # compiles the numba kernel
    model.params["duration"] = 2000.0
    values = np.linspace(0, 3, args.side)
    points = [(e, i) for e in values for i in values]
    times = []
    for _ in range(args.reps):
        t0 = time.monotonic()
        for e, i in points:
            model.params["mue_ext_mean"] = e
            model.params["mui_ext_mean"] = i
            model.run()
            rates = model.rates_exc[:, 500:]
            _top = rates.max()
            f, p = getPowerSpectrum(rates.mean(axis=0), dt=1.0, maxfr=70)
            _peak = f[np.argmax(p)]
        times.append(round((time.monotonic() - t0) / len(points), 4))
    print(json.dumps({"case": "explore_aln", "points": len(points), "kernel_s": times}))


if __name__ == "__main__":
    main()
