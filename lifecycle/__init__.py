"""The top layer: what drives the stages.

The command line (``cli``), the whole loop (``loop``) and its day-by-day replay
(``day_replay``), the policy's check (``checks``), retraining (``retraining``),
one-at-a-time scheduled jobs (``locks``), and the local stand-ins a person or a test
uses: workspaces (``workspace``) and the production servers on loopback
(``local_stack``). Nothing below imports it.
"""
