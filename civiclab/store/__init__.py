"""The MLflow store behind one Tracker: runs, artifacts, fast SQL reads, access, the store lock and the schema of names."""
