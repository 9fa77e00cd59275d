"""A current ClickHouse engine behind ClickHouse's HTTP interface, for tests.

The project's ClickHouse test server is Debian's 18.16; the OpenTelemetry
exporter's tables need a current server (DateTime64, Map, LowCardinality, TTL).
chdb (PyPI) embeds a current ClickHouse in a Python process; this serves it over
the part of the HTTP interface the clients use: `/ping`, and a query in the
`query` URL parameter and/or the body (a body after a `query` parameter is the
INSERT's data, appended as ClickHouse does), `database` as the default
database, `default_format` (TabSeparated otherwise), errors as status 500 with
ClickHouse's `Code: N. DB::Exception: ...` text and the
`X-ClickHouse-Exception-Code` header. One engine, queries one at a time.

    python chdb_http.py PORT DATA_DIR
"""

import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from chdb import session

IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LOCK = threading.Lock()
ENGINE = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.handle_query(b"")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.handle_query(body)

    def handle_query(self, body):
        url = urlparse(self.path)
        if url.path in ("/ping", "/ping/"):
            return self.answer(200, b"Ok.\n")
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        try:
            data = body.decode("utf-8")
        except UnicodeDecodeError:
            return self.answer(501, b"Code: 1. DB::Exception: binary request bodies are not served by this test engine")
        sql = params.get("query", "")
        sql = f"{sql}\n{data}" if sql and data else (sql or data)
        if not sql.strip():
            return self.answer(400, b"Code: 62. DB::Exception: Empty query")
        database = params.get("database", "default")
        if not IDENT.match(database):
            return self.answer(400, b"Code: 81. DB::Exception: bad database name")
        fmt = params.get("default_format", "TabSeparated")
        with LOCK:
            try:
                ENGINE.query(f"USE {database}")
                out = ENGINE.query(sql, fmt).bytes()
            except Exception as e:  # chdb raises its engine's errors as one type
                text = str(e).encode("utf-8", "replace")
                code = re.match(rb"Code: (\d+)", text)
                return self.answer(500, text, [("X-ClickHouse-Exception-Code", (code.group(1) if code else b"1").decode())])
        self.answer(200, out, [("Content-Type", "application/octet-stream")])


def main():
    global ENGINE
    port, data_dir = int(sys.argv[1]), sys.argv[2]
    ENGINE = session.Session(data_dir)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
