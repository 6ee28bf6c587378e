"""Evaluation harness: scores the analyser on whole annotated databases (EC57 style)."""
