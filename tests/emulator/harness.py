"""Test harness for the loopback emulators.

    import sys; sys.path.insert(0, "<repo>/tests/emulator")
    from harness import Emulator, CredServices, kms_client

    with Emulator(tls=True, seed="tests/emulator/seed-example.json") as emu:
        kms = kms_client(emu)                  # botocore client, current model
        kms.describe_custom_key_stores()
        emu.faults([{"kind": "status", "status": 503}])
        emu.requests()                         # what the emulator received

Processes are started with /usr/bin/python3, the ready file is polled (no
fixed sleeps, 20 s timeout) and they are stopped by pid (SIGTERM, then
SIGKILL after 5 s).  Standard library and botocore only.
"""

import atexit
import copy
import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"
DEFAULT_ACCESS_KEY = "AKIDEXAMPLE"
DEFAULT_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SEED_EXAMPLE = os.path.join(HERE, "seed-example.json")


def shared_dir():
    return os.environ.get("KMS_SHARED") or os.path.normpath(os.path.join(REPO, "..", "shared"))


class ControlError(Exception):
    def __init__(self, status, body):
        super().__init__("control API answered %s: %s" % (status, body))
        self.status = status
        self.body = body


class _Process:
    script = None

    def __init__(self, tls=False, timeout=20.0, extra_args=(), env=None, state_dir=None):
        self.tls = tls
        self.timeout = timeout
        self.extra_args = list(extra_args)
        self.env = env
        self.state_dir = state_dir
        self.proc = None
        self.info = None
        self._tmp = None
        self._log_text = None

    # -- lifecycle
    def _args(self):
        return []

    def start(self):
        self._tmp = tempfile.mkdtemp(prefix="kmsemu-harness-")
        ready = os.path.join(self._tmp, "ready.json")
        self.log_path = os.path.join(self._tmp, "server.log")
        args = [PYTHON, os.path.join(HERE, self.script), "--port", "0", "--ready-file", ready]
        if self.tls:
            args.append("--tls")
        if self.state_dir:
            args += ["--state-dir", self.state_dir]
        args += self._args() + self.extra_args
        env = dict(os.environ)
        env.setdefault("KMS_SHARED", shared_dir())
        env["KMS_EMULATOR_WATCH_PID"] = str(os.getpid())
        if self.env:
            env.update(self.env)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, start_new_session=True)
        deadline = time.monotonic() + self.timeout
        while True:
            if os.path.exists(ready):
                with open(ready) as f:
                    line = f.readline()
                if line.endswith("\n"):
                    self.info = json.loads(line)
                    break
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s before it was ready:\n%s"
                                   % (self.script, self.proc.returncode, self.log()))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("%s was not ready within %.0f s:\n%s" % (self.script, self.timeout, self.log()))
            time.sleep(0.02)
        return self

    def stop(self):
        """SIGTERM by pid, SIGKILL after 5 s. Returns the exit status."""
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                rc = self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                rc = self.proc.wait(5)
        self._log.close()
        self._log_text = self._read_log()
        shutil.rmtree(self._tmp, ignore_errors=True)  # ready file, log, seed copy
        self.returncode = rc
        self.proc = None
        return rc

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def log(self):
        """The server's output (kept after stop())."""
        if self._log_text is not None:
            return self._log_text
        return self._read_log()

    def _read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- where
    @property
    def url(self):
        return self.info["url"]

    @property
    def port(self):
        return self.info["port"]

    @property
    def pid(self):
        return self.info["pid"]

    @property
    def ca(self):
        return self.info["ca"]

    @property
    def other_ca(self):
        return self.info.get("other_ca")

    @property
    def control_url(self):
        return self.info["url"] + "/__emulator"

    def ssl_context(self):
        if not self.ca:
            return None
        return ssl.create_default_context(cafile=self.ca)

    # -- control API
    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.control_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30, context=self.ssl_context()) as r:
                return json.loads(r.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            raise ControlError(e.code, e.read().decode("utf-8", "replace"))

    def requests(self, **filters):
        q = "&".join("%s=%s" % kv for kv in filters.items())
        return self.control("GET", "/requests" + ("?" + q if q else ""))["requests"]

    def clear_requests(self):
        return self.control("DELETE", "/requests")

    def faults(self, faults):
        return self.control("POST", "/faults", list(faults))

    def clear_faults(self):
        return self.control("DELETE", "/faults")

    def reset(self):
        return self.control("POST", "/reset")

    def config(self, **settings):
        if settings:
            return self.control("POST", "/config", settings)
        return self.control("GET", "/config")

    def stats(self):
        return self.control("GET", "/stats")


class Emulator(_Process):
    """The KMS emulator (tests/emulator/kms_emulator.py)."""

    script = "kms_emulator.py"

    def __init__(self, tls=False, seed=None, connect_delay=None, disconnect_delay=None, region=None,
                 **kw):
        super().__init__(tls=tls, **kw)
        self.seed = seed
        self.connect_delay = connect_delay
        self.disconnect_delay = disconnect_delay
        self.region = region

    def _args(self):
        a = []
        if self.seed is not None:
            path = self.seed
            if not isinstance(path, str):
                path = os.path.join(self._tmp, "seed.json")
                with open(path, "w") as f:
                    json.dump(self.seed, f)
            a += ["--seed", path]
        if self.connect_delay is not None:
            a += ["--connect-delay", str(self.connect_delay)]
        if self.disconnect_delay is not None:
            a += ["--disconnect-delay", str(self.disconnect_delay)]
        if self.region:
            a += ["--region", self.region]
        return a

    def stores(self):
        return self.control("GET", "/stores")["stores"]

    def store(self, store_id):
        return self.control("GET", "/stores/" + store_id)

    def put_store(self, store):
        """Create, or merge into, a store (seed format)."""
        return self.control("POST", "/stores", store)["stores"][0]

    def delete_store(self, store_id):
        return self.control("DELETE", "/stores/" + store_id)

    def add_credentials(self, access_key_id, secret_access_key, session_token=None, expiration=None):
        return self.control("POST", "/credentials", {
            "access_key_id": access_key_id, "secret_access_key": secret_access_key,
            "session_token": session_token, "expiration": expiration})

    def wait_state(self, store_id, states, timeout=10.0):
        """Poll the control API until the store's state is one of states."""
        if isinstance(states, str):
            states = (states,)
        deadline = time.monotonic() + timeout
        while True:
            s = self.store(store_id)
            if s["state"] in states:
                return s
            if time.monotonic() > deadline:
                raise TimeoutError("store %s is %s, not %s" % (store_id, s["state"], "/".join(states)))
            time.sleep(0.02)


class CredServices(_Process):
    """STS, ECS and IMDSv2 (tests/emulator/cred_services.py).

    With kms=<Emulator>, issued credentials are registered with it."""

    script = "cred_services.py"

    def __init__(self, kms=None, tls=False, expiration_seconds=None, **kw):
        super().__init__(tls=tls, **kw)
        self.kms = kms
        self.expiration_seconds = expiration_seconds

    def _args(self):
        a = []
        if self.kms is not None:
            a += ["--kms-control", self.kms.control_url]
            if self.kms.ca:
                a += ["--kms-ca", self.kms.ca]
        if self.expiration_seconds is not None:
            a += ["--expiration-seconds", str(self.expiration_seconds)]
        return a

    @property
    def sts_url(self):
        return self.info["sts"]

    @property
    def ecs_url(self):
        return self.info["ecs"]

    @property
    def imds_url(self):
        return self.info["imds"]

    def counts(self):
        return self.control("GET", "/counts")

    def issued(self):
        return self.control("GET", "/issued")["issued"]


# --------------------------------------------------------------------------
# botocore clients with the current KMS model

_MODEL_DIR = None


def model_data_dir():
    """A botocore data directory holding kms/2014-11-01/service-2.json from the
    shared (current) model, made once per process."""
    global _MODEL_DIR
    if _MODEL_DIR is None:
        d = tempfile.mkdtemp(prefix="kmsemu-model-")
        target = os.path.join(d, "kms", "2014-11-01")
        os.makedirs(target)
        with open(os.path.join(shared_dir(), "reference", "kms-custom-key-store-model.json")) as f:
            model = json.load(f)
        model.pop("source", None)
        with open(os.path.join(target, "service-2.json"), "w") as f:
            json.dump(model, f)
        _MODEL_DIR = d
        atexit.register(shutil.rmtree, d, True)
    return _MODEL_DIR


def botocore_session():
    import botocore.session
    s = botocore.session.Session()
    s.get_component("data_loader").search_paths.insert(0, model_data_dir())
    return s


def kms_client(emu=None, endpoint_url=None, access_key=DEFAULT_ACCESS_KEY, secret_key=DEFAULT_SECRET_KEY,
               session_token=None, region="us-east-1", verify=None, max_attempts=1, read_timeout=30,
               connect_timeout=10, retry_mode="standard", parameter_validation=True):
    """A botocore KMS client on the current model, pointed at the emulator."""
    from botocore.config import Config
    s = botocore_session()
    if emu is not None:
        endpoint_url = endpoint_url or emu.url
        if verify is None:
            verify = emu.ca if emu.ca else True
    return s.create_client(
        "kms", region_name=region, endpoint_url=endpoint_url, aws_access_key_id=access_key,
        aws_secret_access_key=secret_key, aws_session_token=session_token,
        verify=True if verify is None else verify,
        config=Config(retries={"total_max_attempts": max_attempts, "mode": retry_mode},
                      read_timeout=read_timeout, connect_timeout=connect_timeout,
                      parameter_validation=parameter_validation))


def boto3_kms_client(emu, **kw):
    """The same, through boto3."""
    import boto3
    from botocore.config import Config
    b3 = boto3.session.Session(botocore_session=botocore_session())
    return b3.client("kms", region_name=kw.get("region", "us-east-1"), endpoint_url=emu.url,
                     aws_access_key_id=kw.get("access_key", DEFAULT_ACCESS_KEY),
                     aws_secret_access_key=kw.get("secret_key", DEFAULT_SECRET_KEY),
                     verify=emu.ca if emu.ca else True,
                     config=Config(retries={"total_max_attempts": kw.get("max_attempts", 1), "mode": "standard"}))


def aws_cli_env(home, extra=None):
    """The environment the AWS CLI reference runs use."""
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "AWS_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,
           "AWS_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY, "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": ""}
    if extra:
        env.update(extra)
    return env


def load_seed_example():
    with open(SEED_EXAMPLE) as f:
        return copy.deepcopy(json.load(f))
