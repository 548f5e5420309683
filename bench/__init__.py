"""SIP load benchmark of the platform: `make bench` (`.venv/bin/python -m bench`).

It brings up an isolated platform of its own (database istra_bench, Asterisk instance "bench" on SIP
port 5360 and ARI port 8388, ARI application istra-bench, Redis database 14), then drives two call
paths on that same Asterisk with sipp, on loopback only:

* Stasis path: caller device -> context from-device -> Stasis -> ARI bridge -> callee device;
* baseline path: a second caller endpoint whose context is bench-baseline, plain Dial() to the same
  callee endpoints, no application on the path.

For each path it finds the highest sustained rate with zero failed calls and the INVITE->200 setup
time at 50 calls/s, checks the bridge's call records and memory, prints a summary and prepends a
dated section to docs/benchmarks.md. See docs/benchmarks.md for the method.

At the end (or alone, with --voicemail-only) it times voicemail deposits: hang-up -> message stored
and -> e-mail handed to SMTP, with a Celery worker and an SMTP server of its own (bench/voicemail.py).

`bench.environment` must be applied before Django is set up; `python -m bench` does it first.
"""
