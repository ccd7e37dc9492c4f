"""bench/tablelib.py — helpers shared by the bench table scripts (blr_table.py, ebm_table.py, toy2d_table.py).

Standard library only.  The scripts run as `python3 bench/NAME.py`, so bench/ is on sys.path."""
import json


def load(path):
    """The JSON value in the file at path, or None if it is missing or not valid JSON."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
