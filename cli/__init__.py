"""The ``ecg`` command line: analyze, eval, bench, serve, worker, reprocess."""
