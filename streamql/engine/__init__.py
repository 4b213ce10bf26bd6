"""Engines: the protocol every way of running a plan follows, and the observers of a run.

The default engine runs in this process; processes and Dask split a plan's sources into parts.
"""

from .._moved import forward

__getattr__ = forward(
    __name__, "streamql.engine.local", ("execute", "running", "raised_in_run", "RunReport")
)
