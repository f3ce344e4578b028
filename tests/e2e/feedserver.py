#!/usr/bin/env python3
"""feedserver.py -- a small HTTP server for the feed tests, on 127.0.0.1 only.

Usage: python3 feedserver.py ROOT PORT_FILE

Binds 127.0.0.1 on a port the kernel picks, writes the port to PORT_FILE
(atomically, once listening), and serves the files of ROOT. Files are read
afresh on every request, so a test switches a path to a new version by
copying another file over it. Each request is appended to ROOT/requests.log
as one tab-separated line: path, If-None-Match, If-Modified-Since,
Accept-Encoding ("-" for a missing header).

Paths (NAME is a file in ROOT; ?type=T overrides the content type):
  /feed/NAME       the file, with ETag (a hash of its bytes) and Last-Modified
                   (its mtime); If-None-Match, else If-Modified-Since, -> 304
  /lm/NAME         the file with Last-Modified only (If-Modified-Since -> 304)
  /plain/NAME      the file, no validators
  /gzip/NAME       gzip-encoded (Content-Encoding: gzip)
  /deflate/NAME    deflate-encoded (zlib stream, Content-Encoding: deflate)
  /nolength/NAME   no Content-Length: the body ends when the connection closes
  /redirect/REST   302 to /REST
  /redirect-to/HOST/REST
                   302 to http://HOST:PORT/REST, HOST another name of this server
                   (localhost) or 127.0.0.1 itself, PORT this server's (or the
                   one HOST names, as in 127.0.0.1:1)
  /redirect-chain/N/REST
                   302 to /redirect-chain/N-1/REST, and /redirect-chain/0/REST to /REST
  /redirect-ftp/REST
                   302 to ftp://127.0.0.1/REST
  (these three keep the query string, so that a test can tell the request
  for the target from others for the same file)
  /status/CODE     that status with a small HTML page
  /stall/NAME      waits STALL_SECONDS before answering (a bounded stall)
Anything else is a 404. Every wait is bounded; the process ends on SIGTERM.
"""

import email.utils
import gzip
import hashlib
import os
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Longer than curl gives a fetch (a minute) and than any test waits for.
STALL_SECONDS = 600

TYPES = {
    ".xml": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".jsonl": "application/x-ndjson",
    ".html": "text/html; charset=utf-8",
    ".zip": "application/zip",
}

ROOT = ""
LOG_LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: simple and bounded
    server_version = "feedserver/1"

    def log_message(self, format, *args):  # quiet: requests.log says enough
        pass

    def record(self, path):
        fields = [path]
        for h in ("If-None-Match", "If-Modified-Since", "Accept-Encoding"):
            fields.append(self.headers.get(h) or "-")
        with LOG_LOCK:
            with open(os.path.join(ROOT, "requests.log"), "a") as f:
                f.write("\t".join(fields) + "\n")

    def answer(self, code, body=b"", headers=(), length=True):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def page(self, code, text):
        body = ("<!DOCTYPE html>\n<html><head><title>%d</title></head>\n"
                "<body><h1>%d</h1><p>%s</p></body></html>\n" % (code, code, text)).encode()
        self.answer(code, body, [("Content-Type", "text/html; charset=utf-8")])

    def load(self, name, query):
        name = urllib.parse.unquote(name)
        if not name or "/" in name or name.startswith("."):
            return None
        path = os.path.join(ROOT, name)
        try:
            with open(path, "rb") as f:
                data = f.read()
            mtime = int(os.stat(path).st_mtime)
        except OSError:
            return None
        ctype = query.get("type", [None])[0]
        if ctype is None:
            ctype = TYPES.get(os.path.splitext(name)[1], "application/octet-stream")
        return data, mtime, ctype

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        self.record(self.path)
        parts = url.path.split("/", 2)  # "", kind, rest
        kind = parts[1] if len(parts) > 1 else ""
        rest = parts[2] if len(parts) > 2 else ""
        if kind == "redirect":
            self.answer(302, b"", [("Location", "/" + rest)])
            return
        keep = "?" + url.query if url.query else ""
        if kind == "redirect-to":
            host, _, tail = rest.partition("/")
            if ":" not in host:
                host = "%s:%d" % (host, self.server.server_address[1])
            self.answer(302, b"", [("Location", "http://%s/%s%s" % (host, tail, keep))])
            return
        if kind == "redirect-chain":
            n, _, tail = rest.partition("/")
            hops = int(n) if n.isdigit() else 0
            target = "/redirect-chain/%d/%s" % (hops - 1, tail) if hops > 0 else "/" + tail
            self.answer(302, b"", [("Location", target + keep)])
            return
        if kind == "redirect-ftp":
            self.answer(302, b"", [("Location", "ftp://127.0.0.1/" + rest + keep)])
            return
        if kind == "status":
            code = int(rest) if rest.isdigit() else 500
            self.page(code, "The server could not answer the request.")
            return
        found = self.load(rest, query)
        if found is None or kind not in (
                "feed", "lm", "plain", "gzip", "deflate", "nolength", "stall"):
            self.page(404, "Not found.")
            return
        data, mtime, ctype = found
        headers = [("Content-Type", ctype)]
        if kind in ("feed", "lm"):
            etag = '"%s"' % hashlib.sha1(data).hexdigest()[:16]
            modified = email.utils.formatdate(mtime, usegmt=True)
            if kind == "feed":
                headers.append(("ETag", etag))
            headers.append(("Last-Modified", modified))
            inm = self.headers.get("If-None-Match") if kind == "feed" else None
            ims = self.headers.get("If-Modified-Since")
            if inm is not None:
                fresh = inm.strip() == "*" or etag in [t.strip() for t in inm.split(",")]
            elif ims is not None:
                try:
                    fresh = mtime <= email.utils.parsedate_to_datetime(ims).timestamp()
                except (TypeError, ValueError):
                    fresh = False
            else:
                fresh = False
            if fresh:
                self.answer(304, b"", headers[1:], length=False)
                return
        elif kind == "gzip":
            data = gzip.compress(data)
            headers.append(("Content-Encoding", "gzip"))
        elif kind == "deflate":
            data = zlib.compress(data)
            headers.append(("Content-Encoding", "deflate"))
        elif kind == "stall":
            deadline = time.monotonic() + STALL_SECONDS
            while time.monotonic() < deadline:
                time.sleep(0.1)
        self.answer(200, data, headers, length=kind != "nolength")

    do_HEAD = do_GET


def main():
    global ROOT
    if len(sys.argv) != 3:
        sys.stderr.write("usage: feedserver.py ROOT PORT_FILE\n")
        return 2
    ROOT = os.path.abspath(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, sys.argv[2])
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
