"""s3rver (npm) on loopback for the integration tests that talk to a real S3 server
(test_s3_sink.py, test_delivery_chain.py): finding it, starting it with one bucket, a boto3
client for reading objects back, and the reason to skip when either is missing. Install with
    npm install --prefix ~/.cache/paysync-npm s3rver@3.7.1
or point $S3RVER at its executable."""
import os
import shutil
import socket
import subprocess
import tempfile
import time

from pgcluster import free_port  # noqa: F401 (the one copy; test_s3_sink imports it from here)

AK, SK = "S3RVER", "S3RVER"  # s3rver's built-in credentials


def find_s3rver():
    cands = [os.environ.get("S3RVER", ""), shutil.which("s3rver") or "",
             os.path.expanduser("~/.cache/paysync-npm/node_modules/.bin/s3rver")]
    for c in cands:
        if c and os.access(c, os.X_OK):
            return c
    return None


def skip_reason():
    """Why the s3rver tests cannot run here (None when they can)."""
    if not find_s3rver():
        return ("s3rver not found: npm install --prefix ~/.cache/paysync-npm s3rver@3.7.1 "
                "(or set $S3RVER)")
    try:
        import boto3  # noqa: F401
        import botocore.config  # noqa: F401
    except ImportError:
        return "python3-boto3 is not installed (apt-get install python3-boto3)"
    return None


class S3rver:
    """An s3rver process serving BUCKET from a temporary folder on a free loopback port:
    .port, .endpoint, .s3 (a boto3 client, path-style, s3rver's credentials). stop() ends it
    and removes the folder."""

    def __init__(self, bucket):
        self.data = tempfile.mkdtemp(prefix="paysync-s3rver-")
        self.port = free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.proc = subprocess.Popen([find_s3rver(), "-d", self.data, "-a", "127.0.0.1", "-p",
                                      str(self.port), "-s", "--configure-bucket", bucket],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("s3rver did not start: %s" % self.proc.stderr.read())
                time.sleep(0.1)
        import boto3
        import botocore.config
        self.s3 = boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=AK,
                               aws_secret_access_key=SK, region_name="us-east-1",
                               config=botocore.config.Config(s3={"addressing_style": "path"}))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        shutil.rmtree(self.data, ignore_errors=True)
