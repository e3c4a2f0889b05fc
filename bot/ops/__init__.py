"""Operations: health, retention, hot reload, admin plumbing, process logging."""
