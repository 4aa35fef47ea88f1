#!/usr/bin/env python3
"""labelpolicy: a hookplugins external plugin written in Python (standard library only).

It speaks Docker's v1 plugin protocol as hookplugins extends it (docs/PROTOCOL.md):

    labelpolicy.py capabilities            print the Capabilities JSON and exit
    labelpolicy.py serve --socket <path>   serve HTTP/1.1 on a UNIX socket until SIGTERM, or until the host
                                           that started it is gone (the host pipe rule)

ContainerPlugin.preCreate labels every container with its owning team (from the env var TEAM=..., else
"unknown") and refuses images from registries other than the allowed ones, with an Err the host reports.
ContainerPlugin.preStart asks for one OCI prestart hook; ContainerPlugin.postStart and onExit log the container's
start and exit (observers: a failure would be reported, never undo anything). ImagePlugin.resolveImage is an image
driver for "dir:<folder>" references: <folder>/rootfs is the root filesystem, <folder>/config.json (optional) the
OCI image config; any other reference gets "Image": null (not mine). CliPlugin.updateCommands adds the command
"labelpolicy-registries" (prints the allowed registries, one per line; --count prints their number), which the host
runs with CliPlugin.RunCommand. Log lines go to stderr as JSON with a "level".
"""
import json
import os
import signal
import socketserver
import stat
import sys
import threading
from http.server import BaseHTTPRequestHandler

NAME = "labelpolicy"
ALLOWED_REGISTRIES = ("busybox", "docker.io/library/", "registry.example.com/")

CAPABILITIES = {
    "Name": NAME,
    "Version": "1.0.0",
    "Description": "Labels containers with their team and allows images from known registries only",
    "Author": "hookplugins examples",
    "ProtocolVersion": 1,
    "Plugins": [
        {"Type": "ContainerPlugin", "Priority": 20, "Hooks": ["preCreate", "preStart", "postStart", "onExit"], "TimeoutMs": 2000, "FailPolicy": "fail-closed"},
        {"Type": "ImagePlugin", "Priority": 20, "Hooks": ["resolveImage"], "TimeoutMs": 2000, "FailPolicy": "fail-closed"},
        {"Type": "CliPlugin", "Priority": 0, "Hooks": ["updateCommands"], "TimeoutMs": 2000, "FailPolicy": "fail-closed"},
    ],
}


def log(level, msg, **fields):
    try:
        sys.stderr.write(json.dumps({"level": level, "msg": msg, **fields}) + "\n")
        sys.stderr.flush()
    except OSError:
        pass  # the host reads stderr; once it is gone, nobody does (EPIPE)


def pre_create(body):
    config = body["Config"]
    image = config.get("Image", "")
    if not image.startswith(ALLOWED_REGISTRIES):
        log("warn", "image refused", image=image)
        return {"Err": f"image {image!r} is not from an allowed registry ({', '.join(ALLOWED_REGISTRIES)})"}
    team = "unknown"
    for entry in config.get("Env") or []:
        if entry.startswith("TEAM="):
            team = entry[len("TEAM="):]
    config["Labels"] = {**(config.get("Labels") or {}), "example.com/team": team}
    return {"Config": config}


def pre_start(body):
    return {"Hooks": [{"priority": 5, "path": "/bin/true", "args": ["labelpolicy"]}]}


def post_start(body):
    log("info", "container started", id=(body.get("Container") or {}).get("Id"))
    return {}


def on_exit(body):
    exit = body["Exit"]
    log("info", "container exited", id=(body.get("Container") or {}).get("Id"), code=exit["Code"], signal=exit["Signal"], oom=exit["OOMKilled"])
    return {}


def resolve_image(body):
    ref = body["Ref"]
    if not ref.startswith("dir:"):
        return {"Image": None}  # not mine: the host asks the next image driver
    folder = ref[len("dir:"):]
    rootfs = os.path.join(folder, "rootfs")
    if not os.path.isdir(rootfs):  # mine, but broken: the resolution fails with this plugin's error
        return {"Err": f"{ref}: {rootfs} is not a folder"}
    config = {}
    if os.path.exists(os.path.join(folder, "config.json")):
        with open(os.path.join(folder, "config.json")) as f:
            config = json.load(f)
    return {"Image": {"Ref": ref, "Rootfs": os.path.abspath(rootfs), "Config": config}}


REGISTRIES_COMMAND = {
    "Name": "labelpolicy-registries",
    "Description": "print the registries labelpolicy allows",
    "Options": [{"Flags": "--count", "Description": "print only how many there are"}],
}


def update_commands(body):
    # keep the host's commands as they are (built-ins may be Locked) and add ours
    return {"Commands": [*body["Commands"], REGISTRIES_COMMAND]}


def run_command(body):
    if body["Name"] != REGISTRIES_COMMAND["Name"]:
        return {"Err": f"labelpolicy has no command {body['Name']!r}"}
    if body["Options"].get("count"):
        return {"Output": f"{len(ALLOWED_REGISTRIES)}\n", "ExitCode": 0}
    return {"Output": "".join(f"{registry}\n" for registry in ALLOWED_REGISTRIES), "ExitCode": 0}


HANDLERS = {
    "/Plugin.Activate": lambda body: {"Implements": ["ContainerPlugin", "ImagePlugin", "CliPlugin"]},
    "/Plugin.Capabilities": lambda body: CAPABILITIES,
    "/ContainerPlugin.PreCreate": pre_create,
    "/ContainerPlugin.PreStart": pre_start,
    "/ContainerPlugin.PostStart": post_start,
    "/ContainerPlugin.OnExit": on_exit,
    "/ImagePlugin.ResolveImage": resolve_image,
    "/CliPlugin.UpdateCommands": update_commands,
    "/CliPlugin.RunCommand": run_command,
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the host pools connections

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        handler = HANDLERS.get(self.path)
        if handler is None:
            return self.reply(404, {"Err": f"unknown method {self.path[1:]}"})
        try:
            body = json.loads(raw) if raw.strip() else {}
            return self.reply(200, handler(body))
        except Exception as error:  # the host reports it as this plugin's error in this hook
            return self.reply(500, {"Err": str(error)})

    def reply(self, status, value):
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.docker.plugins.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        pass  # one line per request would flood the host's log


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def started_by_host():
    """The host pipe rule (docs/PROTOCOL.md): HOOKPLUGINS_HOST_PIPE=stdin and stdin is a pipe (or a socket)."""
    if os.environ.get("HOOKPLUGINS_HOST_PIPE") != "stdin":
        return False
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def stop_when_host_gone(server):
    """Reads stdin until end-of-file, which means the host is gone (even if it was SIGKILLed): then stops serving."""

    def watch():
        try:
            while os.read(0, 4096):
                pass  # the host never writes; anything read is ignored
        except OSError:
            pass
        log("info", "the host is gone: stopping")
        server.shutdown()  # serve_forever() returns, and serve() removes the socket

    threading.Thread(target=watch, daemon=True).start()


def serve(socket_path):
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    server = Server(socket_path, Handler)
    os.chmod(socket_path, 0o600)

    def stop(signum, frame):
        log("info", "stopping", signal=signum)
        server.server_close()
        os.unlink(socket_path)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if started_by_host():
        stop_when_host_gone(server)
    log("info", "serving", socket=socket_path)
    server.serve_forever()
    server.server_close()
    if os.path.exists(socket_path):
        os.unlink(socket_path)


def main(argv):
    if argv[:1] == ["capabilities"]:
        print(json.dumps(CAPABILITIES))
        return 0
    if len(argv) == 3 and argv[0] == "serve" and argv[1] == "--socket":
        serve(argv[2])
        return 0
    sys.stderr.write("usage: labelpolicy.py capabilities | labelpolicy.py serve --socket <path>\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
