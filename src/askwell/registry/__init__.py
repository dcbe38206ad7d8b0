"""Model registry (MLflow-backed), model cards and artifact verification."""
