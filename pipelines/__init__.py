"""The study pipeline, generated from a study config (``pipelines.study``), and the pod
settings of its tasks (``pipelines.resources``)."""

from pipelines.study import build_pipeline, compile_study

__all__ = ["build_pipeline", "compile_study"]
