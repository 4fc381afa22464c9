"""Text utilities shared by pilots and evaluators: words, sentences, readability, knowledge bases."""
