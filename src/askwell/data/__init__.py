"""Data layer: ingest dumps, store versioned datasets, label, split, report."""
