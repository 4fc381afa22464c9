"""The WebXR scene of a journey, generated from its graph with A-Frame (shipped with civiclab).

One room per immersive step, side by side along the x axis; a door per transition (`next`, and
`fallback` as a second, marked door); a help point per assistance channel; the step's caption in
the room and in an HTML live region (read by screen readers, shown as subtitles); movement between
rooms is a teleport with a fade, turning is in 45° snaps, and a seated mode lowers the camera, so
nothing requires standing, walking or smooth motion. Every control is also an HTML button with a
keyboard shortcut, and the plain-page twin is one link away on every step.
"""

from __future__ import annotations

import html
import json
from typing import Any

from pilots.journey.model import Journey, Step

AFRAME = "aframe-v1.8.0.min.js"
ROOM_SPACING_M = 20
IMMERSIVE = "immersive_3d"
KEYS = {
    "next": "N",
    "fallback": "F",
    "help": "H",
    "turn_left": "Q",
    "turn_right": "E",
    "seated": "S",
    "vignette": "V",
    "captions": "C",
    "twin": "T",
    "stop": "Escape",
}


def immersive_steps(journey: Journey) -> list[Step]:
    return [s for s in journey.steps if s.channel == IMMERSIVE]


def caption_of(step: Step) -> str:
    return step.caption or step.title


def _a(text: str) -> str:
    return html.escape(text, quote=True)


def _label(text: str, position: str, width: float, height: float, extra: str = "") -> str:
    """A text panel: the scene's script draws the text on a canvas (no font is fetched from anywhere)."""
    classes = f"label {extra}".strip()
    return (
        f'<a-plane class="{classes}" data-text="{_a(text)}" position="{position}" width="{width}" '
        f'height="{height}" material="shader: flat; color: #ffffff"></a-plane>'
    )


def _room(step: Step, journey: Journey, x: int) -> str:
    parts = [
        f'<a-entity class="room" id="room-{step.id}" data-step="{step.id}" position="{x} 0 0">',
        '<a-plane rotation="-90 0 0" width="10" height="10" color="#7c8a99"></a-plane>',
        '<a-box position="0 2 -5" width="10" height="4" depth="0.2" color="#e8e1d5"></a-box>',
        '<a-box position="-5 2 0" width="0.2" height="4" depth="10" color="#d9d0c1"></a-box>',
        '<a-box position="5 2 0" width="0.2" height="4" depth="10" color="#d9d0c1"></a-box>',
        _label(step.title, "0 3.72 -4.85", 8, 0.45),
        _label(caption_of(step), "0 3.05 -4.85", 6, 0.8, "caption"),
    ]
    if step.next is not None:
        target = journey.step(step.next)
        parts.append(
            f'<a-entity class="door" data-target="{target.id}" position="0 1.1 -4.85">'
            '<a-box width="1.4" height="2.2" depth="0.1" color="#2f6f4f"></a-box>'
            + _label("Door: " + target.title, "0 1.3 0.1", 2.4, 0.5)
            + "</a-entity>"
        )
    if step.fallback is not None:
        other = journey.step(step.fallback)
        parts.append(
            f'<a-entity class="door fallback" data-target="{other.id}" position="-4.85 1.1 -2" rotation="0 90 0">'
            '<a-box width="1.4" height="2.2" depth="0.1" color="#6f4f2f"></a-box>'
            + _label("Other way: " + other.title, "0 1.3 0.1", 2.4, 0.5)
            + "</a-entity>"
        )
    if step.assistance is not None:
        point = journey.assistance(step.assistance)
        parts.append(
            f'<a-entity class="help-point" data-point="{point.id}" position="3.5 0 -3">'
            '<a-cylinder radius="0.4" height="1.2" color="#f2c14e"></a-cylinder>'
            + _label("Help: " + point.label, "0 1.6 0", 2.6, 0.6)
            + "</a-entity>"
        )
    parts.append("</a-entity>")
    return "".join(parts)


def scene_data(journey: Journey) -> dict[str, Any]:
    """What the scene's script needs: each step's caption, doors and help point, and which are rooms."""
    rooms = immersive_steps(journey)
    return {
        "journey": journey.id,
        "first": journey.start,
        "rooms": {s.id: i * ROOM_SPACING_M for i, s in enumerate(rooms)},
        "steps": {
            s.id: {
                "title": s.title,
                "caption": caption_of(s),
                "next": s.next,
                "fallback": s.fallback,
                "assistance": journey.assistance(s.assistance).label if s.assistance else None,
                "point": s.assistance,
                "channel": s.channel,
            }
            for s in journey.steps
        },
        "keys": KEYS,
    }


def scene_html(journey: Journey) -> str:
    """The scene page, with `{{csrf}}` left for the server to fill in per participant."""
    rooms = immersive_steps(journey)
    data = json.dumps(scene_data(journey), sort_keys=True).replace("</", "<\\/")
    buttons = [
        ("next", "Go through the door"),
        ("fallback", "Take the other way"),
        ("help", "Ask for help"),
        ("turn_left", "Turn left 45°"),
        ("turn_right", "Turn right 45°"),
    ]
    toggles = [
        ("seated", "Seated mode", "false"),
        ("vignette", "Comfort vignette", "true"),
        ("captions", "Captions", "true"),
    ]
    controls = "".join(
        f'<button type="button" id="{key}" aria-keyshortcuts="{KEYS[key]}">{label} ({KEYS[key]})</button>'
        for key, label in buttons
    ) + "".join(
        f'<button type="button" id="{key}" aria-pressed="{on}" aria-keyshortcuts="{KEYS[key]}">'
        f"{label} ({KEYS[key]})</button>"
        for key, label, on in toggles
    )
    room_html = "".join(_room(s, journey, i * ROOM_SPACING_M) for i, s in enumerate(rooms))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="civiclab-csrf" content="{{{{csrf}}}}">
<title>{_a(journey.title)}: virtual town hall</title>
<link rel="stylesheet" href="/static/scene.css">
<script src="/static/scene-config.js"></script>
<script src="/static/{AFRAME}"></script>
<script src="/static/scene.js" defer></script>
</head>
<body>
<header id="hud">
<h1 id="step-title">{_a(journey.title)}</h1>
<p id="caption" role="status" aria-live="polite"></p>
<nav aria-label="Journey controls">{controls}
<a id="twin" href="/twin/{journey.start}?switch=1" aria-keyshortcuts="T">Switch to plain pages (T)</a>
<a id="stop" href="/stop" aria-keyshortcuts="Escape">Stop now (Esc)</a>
</nav>
</header>
<div id="vignette-overlay" aria-hidden="true"></div>
<main aria-label="3D scene">
<a-scene id="scene" vr-mode-ui="enabled: true" renderer="antialias: false" loading-screen="enabled: false"
 device-orientation-permission-ui="enabled: false">
<a-sky color="#bcd4e6"></a-sky>
<a-light type="ambient" intensity="0.9"></a-light>
<a-light type="directional" position="2 6 4" intensity="0.6"></a-light>
<a-entity id="rig" position="0 0 2"><a-camera id="camera" position="0 1.6 0" wasd-controls="enabled: false"
 look-controls="pointerLockEnabled: false"></a-camera></a-entity>
{room_html}
</a-scene>
</main>
<script type="application/json" id="journey-data">{data}</script>
</body>
</html>
"""
