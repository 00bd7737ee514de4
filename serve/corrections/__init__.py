"""Corrections: what people meant, sent back with their drawings, kept as training data.

``store`` keeps them (SQLite or PostgreSQL), ``limits`` bounds how often one client may
send them, ``export`` writes them out for training (``python -m serve.corrections export
DIR``). The endpoint that receives them is serve/web/corrections.py.
"""
