"""Live and infinite streams: followed and rotated files, checkpoints, windows, stopping."""

from .._moved import forward

__getattr__ = forward(
    __name__, "streamql.live.runs", ("LiveRun", "live_runs", "stop_all", "registered")
)
