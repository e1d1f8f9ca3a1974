"""Benchmarks behind ``tryon bench``; each prints a table measured side by side in one run:
``matching`` (naive vs fused global matching), ``train`` (training step), ``infer`` (one try-on).
The data benchmark lives with the generator (:mod:`tryon.data.synthetic`)."""
