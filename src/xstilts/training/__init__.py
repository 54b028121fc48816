"""Training: model inputs per task type and their on-disk cache (``features``), and
multi-task sampling (``sampler``).

Nothing is re-exported here, so that importing the light ``sampler`` module does not pull
in torch and transformers.
"""
