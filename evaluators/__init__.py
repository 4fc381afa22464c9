"""Built-in civiclab evaluators, one module each."""
