"""The thin web layer: Flask app factory, blueprints, error mapping, headers, metrics."""
