"""The web layer: the app factory, routes, views, request state, middleware and server processes."""
