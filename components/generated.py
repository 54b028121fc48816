"""Components whose signature depends on the catalogue or on the fan-in width.

A KFP component's inputs and outputs are fixed by its function's signature, so a component
with one output per language, or with ``FANIN`` optional inputs, is written from a template.
Its source is registered with ``linecache`` so that KFP reads it back, as it does for any
component function."""

import linecache
from typing import Callable

from kfp import dsl
from kfp.dsl import ClassificationMetrics, Dataset, Input, Metrics, Model, Output

from components import IMAGE

NAMESPACE = {"Input": Input, "Output": Output, "Dataset": Dataset, "Model": Model,
             "Metrics": Metrics, "ClassificationMetrics": ClassificationMetrics}


def component_from_source(name: str, source: str) -> Callable:
    """The lightweight component defined by ``source`` (a function called ``name``)."""
    filename = f"<xstilts component {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = dict(NAMESPACE)
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own template
    return dsl.component(base_image=IMAGE, install_kfp_package=False)(namespace[name])
