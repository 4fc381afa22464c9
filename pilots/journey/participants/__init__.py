"""The journey served to real participants: enrolment, consent, the WebXR scene, its twin, telemetry, withdrawal."""
