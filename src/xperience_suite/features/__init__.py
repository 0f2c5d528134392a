"""Per-frame block features and window statistics (the 8,546-dim contract + raw log-mel)."""
