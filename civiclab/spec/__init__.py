"""What a lab writes: the experiment, its survey section, instruments, impact questionnaire, paths and limits (pydantic models only)."""
