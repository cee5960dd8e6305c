"""Dynamic gzip for the API's JSON and the HTML pages (feeds are served from their stored
gzip copy instead, see ``http_cache``).

A small after-request hook rather than flask-compress: that library rewrites a strong ETag to
``"<etag>:gzip"``, which would turn every client's ``If-Match`` on a gzip-read resource into a
412. Here the ETag stays the representation's validator, as for the stored feeds.
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

# Textual types rendered per request. Feeds are not here: their gzip copy is stored.
COMPRESSIBLE = frozenset({"application/json", "application/problem+json", "text/html"})
MIN_BYTES = 200  # smaller bodies gain less than the header and the CPU cost
LEVEL = 6  # per request: zlib's default trade of time for size


def compress_response(response: Response) -> Response:
    """Gzip a textual response when the client accepts it; mark that it varies."""
    if response.mimetype not in COMPRESSIBLE or response.direct_passthrough:
        return response
    if response.is_streamed or "Content-Encoding" in response.headers:
        return response
    response.vary.add("Accept-Encoding")  # the answer depends on it, compressed or not
    if request.method == "HEAD" or response.status_code in (204, 304):
        return response
    if request.accept_encodings["gzip"] <= 0:
        return response
    body = response.get_data()
    if len(body) < MIN_BYTES:
        return response
    response.set_data(gzip.compress(body, compresslevel=LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    return response


def init_app(app: Flask) -> None:
    """Compress the app's JSON and HTML responses."""
    app.after_request(compress_response)
