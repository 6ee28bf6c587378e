"""The ``ecg`` command line: analyze, eval, bench, serve, worker, reprocess.

Importing the package pins BLAS to one thread per process before numpy loads: the
analysis works on small matrices, where BLAS threads only add CPU contention (measured:
10 s 12-lead analysis 27 ms -> 20 ms median under load), and workers already run one
analysis process per core. An explicit setting in the environment wins.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
