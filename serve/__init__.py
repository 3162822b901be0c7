"""Transport: the FastAPI app Ray Serve hosts (REST `/v1`), auth, problem+json, health, metrics."""
