"""Built-in civiclab pilots, one sub-package each."""
