// Loaded before A-Frame: anything it would fetch from its CDN is asked of this server instead (and is
// absent): a scene served by civiclab loads nothing from elsewhere.
window.AFRAME_CDN_ROOT = "/static/aframe/";
