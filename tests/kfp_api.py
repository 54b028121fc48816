"""A recording stand-in for the Kubeflow Pipelines REST API (v2beta1), on loopback.

No Kubeflow Pipelines server can run here, so the submission tests point the real
``kfp.Client`` at this server: it answers the few endpoints a submission uses, the way the
API documents them, and keeps every request (method, path, headers, JSON body) for the
test to assert on. ``status`` makes every API call fail with that HTTP status.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class KfpApi:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[dict] = []
        self.experiments: dict[str, str] = {}  # name → id
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def _reply(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                url = urlparse(self.path)
                api.requests.append({"method": method, "path": url.path,
                                     "query": parse_qs(url.query),
                                     "headers": dict(self.headers),
                                     "body": json.loads(raw) if raw else None})
                if api.status != 200:
                    self._reply(api.status, {"error": "denied", "code": api.status})
                    return
                self._reply(200, api.answer(method, url.path, url.query,
                                            json.loads(raw) if raw else None))

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, method: str, path: str, query: str, body: dict | None) -> dict:
        if path.endswith("/healthz"):
            return {"multi_user": False, "pipeline_version": "2.17.0"}
        if path == "/apis/v2beta1/experiments" and method == "GET":
            wanted = json.dumps(parse_qs(query).get("filter", [""])[0])
            found = [{"experiment_id": i, "display_name": n}
                     for n, i in self.experiments.items() if n in wanted]
            return {"experiments": found, "total_size": len(found)} if found else {}
        if path == "/apis/v2beta1/experiments" and method == "POST":
            experiment_id = f"exp-{len(self.experiments) + 1}"
            self.experiments[body["display_name"]] = experiment_id
            return {"experiment_id": experiment_id, "display_name": body["display_name"]}
        if path == "/apis/v2beta1/runs" and method == "POST":
            return {"run_id": "run-1", "display_name": body.get("display_name"),
                    "experiment_id": body.get("experiment_id"), "state": "PENDING"}
        if path == "/apis/v2beta1/recurringruns" and method == "POST":
            return {"recurring_run_id": "rec-1", "display_name": body.get("display_name"),
                    "status": "ENABLED"}
        return {}

    def posted(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == "POST" and r["path"] == path]

    def __enter__(self) -> "KfpApi":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
