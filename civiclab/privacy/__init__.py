"""What may be shown and what must never be kept: k-anonymous groups, disclosure control, redaction, credentials, pseudonyms."""
