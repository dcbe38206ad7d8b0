"""Exact contributions -> candidate edits -> re-scored -> ranked suggestions."""
