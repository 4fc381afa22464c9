"""What storing an import did, as `civiclab survey import` prints it."""

from __future__ import annotations

from dataclasses import dataclass, field


def wave_label(source: str) -> str:
    """`wave w1` for the source `limesurvey:w1`, `no wave` for a bare `limesurvey`."""
    _format, sep, wave = source.partition(":")
    return f"wave {wave}" if sep and wave else "no wave"


@dataclass
class StoredImport:
    """What storing an import did: new responses, ones now complete, unchanged ones, and collisions."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    collisions: list[str] = field(default_factory=list)
    archived: bool = False
    skipped: dict[tuple[str, str], int] = field(default_factory=dict)
    """Responses already stored with the same content, by the (file, source) they were first imported from."""

    def lines(self, experiment: str) -> list[str]:
        """What the import stored, then one line per file whose responses it already held."""
        out = [self.line(experiment)]
        for (filename, source), count in sorted(self.skipped.items()):
            out.append(
                f"{count} responses already imported from {filename or 'an earlier import'} "
                f"({wave_label(source)}): skipped"
            )
        return out

    def line(self, experiment: str) -> str:
        text = (
            f"stored {self.added} new responses for {experiment!r}, completed {self.updated} that were "
            f"incomplete, {self.unchanged} already stored unchanged"
        )
        if self.collisions:
            text += (
                f"; {len(self.collisions)} COLLISIONS left unchanged (same id, different answers: "
                f"{', '.join(self.collisions[:5])}{' ...' if len(self.collisions) > 5 else ''}; "
                "another wave? import it with --wave NAME)"
            )
        return text
