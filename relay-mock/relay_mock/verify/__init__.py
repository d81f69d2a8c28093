"""The trace verifier: checks that distributed traces crossed the service hop intact
and says, for every trace that did not, where and why."""
