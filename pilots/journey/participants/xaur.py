"""The served scene checked against the W3C XR Accessibility User Requirements (XAUR, W3C Note 2021).

Judged from the page `civiclab journey serve` actually sends (parsed, not assumed): for each immersive
step, whether its room and the page give captions, an alternative to pointing and gestures, use while
seated, a way to reduce motion, a non-immersive equivalent, a stop control, and its help point.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from pilots.journey.model import Journey
from pilots.journey.participants.scene import immersive_steps, scene_html

# XAUR requirement numbers (https://www.w3.org/TR/xaur/, section 4) each check answers.
REQUIREMENTS: dict[str, str] = {
    "captions": "XAUR 4.8/4.9: captions of what is said, in the scene and to assistive technology",
    "alternative_input": "XAUR 4.2/4.4: every action from a keyboard or switch, exposed as a named control",
    "seated_use": "XAUR 4.14: usable seated, without standing or reaching",
    "motion_reduction": "XAUR 4.12/4.13: snap turning, teleport instead of smooth movement, a comfort vignette",
    "non_immersive_equivalent": "XAUR 4.1 and WCAG 2.2: the same journey as plain pages, one step away",
    "stop_control": "XAUR 4.15 (safe exit): a control to stop at once",
    "help_point": "XAUR 4.5: the assistance channel visible where it applies",
}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: dict[str, dict[str, str]] = {}
        self.rooms: dict[str, set[str]] = {}
        self.live_region = False
        self.smooth_movement = True
        self._room: str | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids[a["id"]] = a
        if a.get("role") == "status" and a.get("aria-live") == "polite":
            self.live_region = True
        if tag == "a-camera" and "enabled: false" in a.get("wasd-controls", ""):
            self.smooth_movement = False
        classes = set(a.get("class", "").split())
        if "room" in classes:
            self._room, self._depth = a.get("data-step", ""), 0
            self.rooms[self._room] = set()
        elif self._room is not None:
            self._depth += 1
            self.rooms[self._room] |= classes

    def handle_endtag(self, tag: str) -> None:
        if self._room is not None:
            if self._depth == 0:
                self._room = None
            else:
                self._depth -= 1


def scene_accessibility(journey: Journey) -> dict[str, Any]:
    """For each XAUR requirement: the immersive steps meeting it, from the generated page."""
    page = _Page()
    page.feed(scene_html(journey))
    keyed = {
        name: name in page.ids and bool(page.ids[name].get("aria-keyshortcuts"))
        for name in ("next", "help", "turn_left", "turn_right", "seated", "vignette", "twin", "stop")
    }
    steps: dict[str, dict[str, bool]] = {}
    for step in immersive_steps(journey):
        room = page.rooms.get(step.id, set())
        steps[step.id] = {
            # A step with speech needs its words written (`caption:`): its title is not a caption of them.
            "captions": page.live_region and "caption" in room and (not step.demands.audio or bool(step.caption)),
            "alternative_input": all(keyed[k] for k in ("next", "help", "twin", "stop")),
            "seated_use": keyed["seated"],
            "motion_reduction": keyed["turn_left"] and keyed["turn_right"] and keyed["vignette"]
            and not page.smooth_movement,
            "non_immersive_equivalent": keyed["twin"],
            "stop_control": keyed["stop"],
            "help_point": step.assistance is None or "help-point" in room,
        }  # fmt: skip
    return {"requirements": REQUIREMENTS, "steps": steps}
