"""The trace verifier: checks that distributed traces crossed the service hop intact
and says, for every trace that did not, where and why.

Its readers go through two modules: `run.py` (`run()`: collect, checks, correlation, report;
custom checks register there) and `traces.py` (the trace list, one trace, several)."""
