"""Where training and export keep their files by default: models/ and checkpoints/ at the
top of the repository, found from this file (the server's settings are the server's own)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
CHECKPOINT = ROOT / "checkpoints" / "best.weights.h5"

# File names in a models folder: training writes them, export reads them.
WEIGHTS = "model.weights.h5"
METRICS = "metrics.json"
