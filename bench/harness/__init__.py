"""What the benches share: a service run as its own process, /proc sampling, py-spy, the environment.

The benches run as scripts (``python bench/NAME.py``), so ``bench/`` is on ``sys.path`` and they
import ``harness.<module>``. Nothing here imports a service package at module level: a bench file
(``bench/registry.py``, ``bench/monitoring.py`` …) would shadow the service's package of that name.

- ``processes``: a service as its own process (``python -m mentornet_spine.serve NAME``), its env;
- ``sampling``: RSS, CPU and run-queue wait of a process, CPU of the servers, from /proc;
- ``profiling``: py-spy attached to a process, folded stacks summarised by component and function;
- ``environment``: the host, versions and commit a run's figures come from;
- ``client``: HTTP calls with a bearer token, bounded concurrency, a bare keep-alive connection;
- ``jwks``: the registry's JWKS for a bench-owned key, served from a thread;
- ``latency``: latency percentiles and how a report writes them;
- ``rates``: a count over seconds, requests over a measured window;
- ``console``, ``markdown``: the printed table and floors, the report's markdown pieces;
- ``cli``: the servers and ``--output`` arguments, the command line a report shows, the run itself.
"""
