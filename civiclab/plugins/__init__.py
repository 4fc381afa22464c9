"""The contract pilots and evaluators code against: pilots, evaluators, their registry, populations, experiments and record streams."""
