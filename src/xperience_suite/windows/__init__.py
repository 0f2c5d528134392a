"""Window slicing, window statistics and the ``WindowSet`` hand-off to training."""
