"""The dashboard: server-rendered pages (Jinja2, autoescaped), each with its JSON twin in /api/v1, and charts
drawn by uPlot (vendored in static/, no build step) from data embedded in the page."""
