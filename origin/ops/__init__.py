"""Operations: health and readiness, the access log, the metrics."""
