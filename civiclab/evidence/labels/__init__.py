"""People's grades of a judged run's turns, signed by committee members, and the judge's agreement with them."""
