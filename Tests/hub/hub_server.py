#!/usr/bin/env python3
"""A loopback model hub that speaks the Hugging Face Hub's download protocol, for `voxenc pull`'s tests.

It serves every folder ROOT/OWNER/NAME as a repository (files under it, recursively), and reproduces what
huggingface_hub's code reads and the Hub's documentation describes:

- the model-info listing, GET /api/models/{repo}[/revision/{revision}][?blobs=true] (huggingface_hub
  `HfApi.model_info(files_metadata=True)`, without /revision when no revision is asked for): {"id", "sha", "siblings": [{"rfilename", "size", "blobId",
  "lfs": {"sha256", "size", "pointerSize"}}], "gated", "private"};
- GET and HEAD /{repo}/resolve/{revision}/{path} (`hf_hub_url`'s template): a file stored in git is answered 200 with
  `ETag` = its git blob id; an LFS file (*.safetensors, *.bin, *.pt, or over 10 MB) with a 302 to a file host on
  another origin (http://localhost:PORT/cdn/... while the hub is http://127.0.0.1:PORT), the 302 carrying
  `X-Repo-Commit`, `X-Linked-Size`, `X-Linked-Etag` (the sha256) and `ETag` (`get_hf_file_metadata` reads these);
  the file host refuses a request that carries an Authorization header (400, as S3's presigned URLs do), so a
  client that forwards the token across origins fails;
- `Range: bytes=A-B` / `bytes=A-` answered 206 with `Content-Range: bytes A-B/SIZE` (the last byte clamped to the
  file), 416 with `Content-Range: bytes */SIZE` past the end (`get_safetensors_metadata` and resumed downloads use
  these);
- revisions: "main" and the commit sha (the sha1 of the repository's file list and contents), anything else
  404 + `X-Error-Code: RevisionNotFound`; a missing repository 401 + `X-Error-Code: RepoNotFound` without a token and
  404 with one (the Hub hides private repositories this way); a missing file 404 + `EntryNotFound`;
- access: ROOT/OWNER/NAME.hub.json may say {"private": true} (needs the token given with --token) or
  {"gated": true, "accepted": [tokens]}: no token 401 + `X-Error-Code: GatedRepo`, a token that has not accepted
  the conditions 403 + `GatedRepo`.

Faults, for the file named by --fault-file (default: every LFS file) — a server that lies:
  wrong-length (Content-Length one byte more than the range), wrong-range (Content-Range shifted by one byte),
  truncate (half the body, then the connection closed), bad-etag (X-Linked-Etag and ETag of other content),
  swap (two bytes swapped in the middle of what is served), ignore-range (200 with the whole file),
  fail-first=N (the first N resolve requests answer 503), throttle=BYTES_PER_SECOND.

--plain-listing answers the listing with file names only (no "sha", sizes or LFS sha256s, as model_info without
files_metadata): the client must learn sizes, ETags and the commit from the resolve responses.

Every response is appended to --stats as a JSON line {"path", "range", "status", "bytes"} (body bytes sent).
Prints the port on stdout once listening. Stops on SIGTERM, or by itself after --lifetime seconds (default 600).
"""
import argparse
import hashlib
import json
import os
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")


class Repository:
    def __init__(self, folder):
        self.folder = folder
        self.files = {}
        for base, dirs, names in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in names:
                path = os.path.join(base, name)
                rel = os.path.relpath(path, folder)
                size = os.path.getsize(path)
                sha256, blob = hashlib.sha256(), hashlib.sha1(b"blob %d\0" % size)
                with open(path, "rb") as f:
                    while block := f.read(16 << 20):
                        sha256.update(block)
                        blob.update(block)
                lfs = rel.endswith(LFS_SUFFIXES) or size > 10_000_000
                self.files[rel] = {"path": path, "size": size, "lfs": lfs, "sha256": sha256.hexdigest(),
                                   "blob": blob.hexdigest()}
        listing = "".join(f"{k}:{v['sha256']}\n" for k, v in sorted(self.files.items()))
        self.commit = hashlib.sha1(listing.encode()).hexdigest()
        settings = folder.rstrip("/") + ".hub.json"
        self.settings = json.load(open(settings)) if os.path.exists(settings) else {}

    def etag(self, name):
        info = self.files[name]
        return info["sha256"] if info["lfs"] else info["blob"]


class Hub(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, options):
        super().__init__(address, Handler)
        self.options = options
        self.lock = threading.Lock()
        self.resolve_count = 0
        self.repositories = {}

    def handle_error(self, request, client_address):
        # A client that drops a connection (a kill, a cut, a keep-alive closed) is no server error.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)

    def repository(self, repo_id):
        folder = os.path.join(self.options.root, repo_id)
        if "/" not in repo_id or ".." in repo_id.split("/") or not os.path.isdir(folder):
            return None
        with self.lock:
            if repo_id not in self.repositories:
                self.repositories[repo_id] = Repository(folder)
            return self.repositories[repo_id]

    def record(self, entry):
        if self.options.stats:
            with self.lock, open(self.options.stats, "a") as f:
                f.write(json.dumps(entry) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    # -- helpers --------------------------------------------------------------------------------------------------
    def token(self):
        value = self.headers.get("Authorization", "")
        return value[7:] if value.startswith("Bearer ") else None

    def error(self, status, code=None, message=""):
        body = json.dumps({"error": message or code or str(status)}).encode()
        self.send_response(status)
        if code:
            self.send_header("X-Error-Code", code)
            self.send_header("X-Error-Message", message or code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.server.record({"path": self.path, "range": self.headers.get("Range"), "status": status, "bytes": 0})

    def json(self, obj):
        body = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.record({"path": self.path, "range": None, "status": 200, "bytes": len(body)})

    def access(self, repo, listing=False):
        """None when allowed, else sends the Hub's answer and returns False."""
        settings = repo.settings
        token = self.token()
        if settings.get("private") and token != self.server.options.token:
            self.error(401 if token is None else 404, "RepoNotFound", "Repository Not Found")
            return False
        if settings.get("gated") and not listing:
            if token is None:
                self.error(401, "GatedRepo", "Access to this model is restricted: you must be authenticated")
                return False
            if token not in settings.get("accepted", []):
                self.error(403, "GatedRepo", "Access to this model is restricted: accept its conditions")
                return False
        return True

    def find(self, repo_id, listing=False):
        repo = self.server.repository(repo_id)
        if repo is None:
            self.error(401 if self.token() is None else 404, "RepoNotFound", "Repository Not Found")
            return None
        return repo if self.access(repo, listing) else None

    # -- routes ---------------------------------------------------------------------------------------------------
    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        parts = [urllib.parse.unquote(p) for p in url.path.split("/")[1:]]
        if len(parts) >= 6 and parts[:2] == ["api", "models"] and parts[4] == "revision":
            return self.model_info(parts[2] + "/" + parts[3], parts[5])
        if len(parts) == 4 and parts[:2] == ["api", "models"] and not self.server.options.revision_listing_only:
            return self.model_info(parts[2] + "/" + parts[3], "main")
        if len(parts) >= 5 and parts[2] == "resolve":
            return self.resolve(parts[0] + "/" + parts[1], parts[3], "/".join(parts[4:]))
        if len(parts) == 2 and parts[0] == "cdn":
            return self.cdn(urllib.parse.parse_qs(url.query))
        self.error(404, None, "no such route")

    def model_info(self, repo_id, revision):
        repo = self.find(repo_id, listing=True)
        if repo is None:
            return
        if revision not in ("main", repo.commit):
            return self.error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        if self.server.options.plain_listing:
            return self.json({"id": repo_id, "siblings": [{"rfilename": name} for name in sorted(repo.files)]})
        bad = self.server.options.fault == "bad-etag-listing"
        siblings = []
        for name, info in sorted(repo.files.items()):
            entry = {"rfilename": name, "size": info["size"], "blobId": info["blob"]}
            if info["lfs"]:
                sha = info["sha256"] if not (bad and self.targeted(name, info)) else "0" * 64
                entry["lfs"] = {"sha256": sha, "size": info["size"], "pointerSize": 134}
            siblings.append(entry)
        self.json({"id": repo_id, "modelId": repo_id, "sha": repo.commit, "siblings": siblings,
                   "gated": "manual" if repo.settings.get("gated") else False,
                   "private": bool(repo.settings.get("private"))})

    def targeted(self, name, info):
        wanted = self.server.options.fault_file
        return name == wanted if wanted else info["lfs"]

    def resolve(self, repo_id, revision, name):
        repo = self.find(repo_id)
        if repo is None:
            return
        if revision not in ("main", repo.commit):
            return self.error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        info = repo.files.get(name)
        if info is None:
            return self.error(404, "EntryNotFound", f"{name} does not exist on \"{revision}\"")
        options = self.server.options
        with self.server.lock:
            self.server.resolve_count += 1
            count = self.server.resolve_count
        if options.fail_first and count <= options.fail_first:
            return self.error(503, None, "try again")
        etag = repo.etag(name)
        if options.fault == "bad-etag" and self.targeted(name, info):
            etag = hashlib.sha256(b"other" + etag.encode()).hexdigest() if info["lfs"] else hashlib.sha1(etag.encode()).hexdigest()
        if info["lfs"]:
            host = self.headers.get("Host", "")
            port = host.rsplit(":", 1)[-1]
            query = urllib.parse.urlencode({"repo": repo_id, "file": name})
            self.send_response(302)
            scheme = "https" if self.server.options.tls_cert else "http"
            self.send_header("Location", f"{scheme}://localhost:{port}/cdn/{info['sha256']}?{query}")
            self.send_header("X-Repo-Commit", repo.commit)
            self.send_header("X-Linked-Size", str(info["size"]))
            self.send_header("X-Linked-Etag", f'"{etag}"')
            self.send_header("ETag", f'"{etag}"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.server.record({"path": self.path, "range": self.headers.get("Range"), "status": 302, "bytes": 0})
            return
        self.serve(name, info, {"X-Repo-Commit": repo.commit, "ETag": f'"{etag}"'})

    def cdn(self, query):
        if "Authorization" in self.headers:
            return self.error(400, None, "Only one auth mechanism allowed")
        repo = self.server.repository(query.get("repo", [""])[0])
        name = query.get("file", [""])[0]
        if repo is None or name not in repo.files:
            return self.error(404, None, "NoSuchKey")
        info = repo.files[name]
        self.serve(name, info, {"ETag": f'"{info["sha256"]}"'})

    def serve(self, name, info, headers):
        options = self.server.options
        fault = options.fault if self.targeted(name, info) else None
        size = info["size"]
        start, end, partial = 0, size, False
        spec = self.headers.get("Range")
        if spec and fault != "ignore-range":
            if not spec.startswith("bytes=") or "," in spec:
                return self.error(416, None, "bad range")
            first, _, last = spec[6:].partition("-")
            start = int(first)
            end = min(size, int(last) + 1) if last else size
            if start >= size or end <= start:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            partial = True
        with open(info["path"], "rb") as f:
            f.seek(start)
            body = bytearray(f.read(end - start))
        if fault == "swap" and len(body) >= 2:
            middle = len(body) // 2
            body[middle - 1], body[middle] = body[middle], body[middle - 1]
        length = len(body)
        self.send_response(206 if partial else 200)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Accept-Ranges", "bytes")
        if partial:
            shift = 1 if fault == "wrong-range" else 0
            self.send_header("Content-Range", f"bytes {start + shift}-{end - 1 + shift}/{size}")
        self.send_header("Content-Length", str(length + (1 if fault == "wrong-length" else 0)))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        if self.command == "HEAD":
            return
        if fault == "truncate":
            body = body[: length // 2]
        sent = 0
        try:
            block = 65536
            rate = options.throttle
            began = time.monotonic()
            while sent < len(body):
                chunk = body[sent:sent + block]
                self.wfile.write(chunk)
                sent += len(chunk)
                if rate:
                    delay = sent / rate - (time.monotonic() - began)
                    if delay > 0:
                        time.sleep(delay)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.server.record({"path": self.path, "range": spec, "status": 206 if partial else 200, "bytes": sent})
        if fault in ("truncate", "wrong-length"):
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token")
    parser.add_argument("--stats")
    parser.add_argument("--fault", choices=["wrong-length", "wrong-range", "truncate", "bad-etag", "bad-etag-listing",
                                            "swap", "ignore-range"])
    parser.add_argument("--fault-file")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--throttle", type=int, default=0, help="bytes per second per response")
    parser.add_argument("--plain-listing", action="store_true",
                        help="the listing without sha, sizes or LFS info (model_info without files_metadata)")
    parser.add_argument("--revision-listing-only", action="store_true",
                        help="serve the listing at /api/models/{repo}/revision/{revision} only (404 without X-Error-Code otherwise)")
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM; for 127.0.0.1 and localhost)")
    parser.add_argument("--tls-key", help="its private key (PEM)")
    parser.add_argument("--lifetime", type=float, default=600)
    options = parser.parse_args()
    hub = Hub(("127.0.0.1", options.port), options)
    if options.tls_cert:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(options.tls_cert, options.tls_key)
        hub.socket = context.wrap_socket(hub.socket, server_side=True)
    try:
        print(hub.server_address[1], flush=True)
    except BrokenPipeError:
        os._exit(1)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=hub.shutdown).start())
    # A daemon timer: a server whose parent is gone (the port could not be printed) or that outlives --lifetime ends.
    timer = threading.Timer(options.lifetime, hub.shutdown)
    timer.daemon = True
    timer.start()
    hub.serve_forever()
    os._exit(0)


if __name__ == "__main__":
    main()
