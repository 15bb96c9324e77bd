#!/usr/bin/env python3
"""What `rtok exec -- true` adds over running `true`, keyring lookup included.

Run it as `scripts/bench exec` (see the Benchmark section of README.md).
Standard library only; the spawning and timing are scripts/bench.py's.

It builds rtok in release mode, starts a private D-Bus session bus (no
service activation) and `gnome-keyring-daemon --unlock --components=secrets`
with a temporary HOME, moves a token into that keyring with `rtok keyring
import`, and then times, in rotating order, run by run:

  - `true` alone (the floor);
  - `rtok --version` (an rtok process that reads no config);
  - `rtok exec -- true` with the token in the user .npmrc;
  - `rtok exec -- true` with the token only in the keyring;
  - `rtok exec -- true` with the token from a credential command (`echo`);
  - `secret-tool lookup` of the same item, for scale (libsecret's own tool).

The CPU column is wait4's user + sys time: on a busy machine it shows what
rtok itself costs, apart from waiting for the bus and the keyring daemon.
Every run is checked (exit code 0, and for the exec runs that the token
reached the command: the keyring and command variants run `sh -c` test
first, untimed). Nothing is asserted; the figures are printed as a markdown
table and written as JSON.
"""

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as core  # noqa: E402  (scripts/bench.py: Runner, helpers)

ROOT = core.ROOT
TOKEN = "npm_benchExecToken0123456789abcdefghij"
REGISTRY = "http://127.0.0.1:4873/"
NERF = "//127.0.0.1:4873/"


def parse_args():
    parser = argparse.ArgumentParser(
        prog="scripts/bench exec",
        description="Time `rtok exec -- true` against `true`, with the token in the "
        "user .npmrc, in the system keyring (a private gnome-keyring) or from a "
        "credential command.")
    parser.add_argument("--runs", type=int, default=30, help="measured runs per variant (default 30)")
    parser.add_argument("--warmup", type=int, default=5, help="warm-up runs per variant (default 5)")
    parser.add_argument("--json", metavar="PATH",
                        help="where to write the results (default <target-dir>/bench/exec.json)")
    parser.add_argument("--no-build", action="store_true",
                        help="use the rtok already built in <target-dir>/release")
    args = parser.parse_args()
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be at least 1 and --warmup at least 0")
    return args


class PrivateKeyring:
    """A private session bus and gnome-keyring, stopped by pid."""

    def __init__(self, tmp, home):
        for tool, package in (("dbus-daemon", "dbus"), ("gnome-keyring-daemon", "gnome-keyring"),
                              ("secret-tool", "libsecret-tools")):
            if not shutil.which(tool):
                raise core.BenchError(f"`{tool}` is needed: install the Debian package {package}")
        self.dir = tmp / "dbus"
        self.dir.mkdir()
        config = self.dir / "session.conf"
        config.write_text(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={self.dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
""")
        base = {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}
        self.bus = subprocess.Popen(
            ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
            env=base, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=open(self.dir / "bus.log", "wb"))
        self.daemon = None
        self.address = self.bus.stdout.readline().decode().strip()
        if not self.address:
            raise core.BenchError("dbus-daemon printed no address")
        self.env = dict(base, DBUS_SESSION_BUS_ADDRESS=self.address)
        self.daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            env=self.env, stdin=subprocess.PIPE, stdout=open(self.dir / "keyring.out", "wb"),
            stderr=open(self.dir / "keyring.err", "wb"))
        self.daemon.stdin.write(b"rtok-bench-keyring-password")
        self.daemon.stdin.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            reply = subprocess.run(
                ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.secrets",
                 "/org/freedesktop/secrets", "org.freedesktop.Secret.Service.ReadAlias",
                 "string:default"], env=self.env, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL)
            if b"/org/freedesktop/secrets/collection/" in reply.stdout:
                return
            time.sleep(0.02)
        raise core.BenchError("gnome-keyring-daemon did not come up within 20 s")

    def stop(self):
        for proc in (self.daemon, self.bus):
            if proc and proc.poll() is None:
                proc.kill()
                proc.wait()


class Variant:
    def __init__(self, name, argv, env, check=None):
        self.name = name
        self.argv = argv
        self.env = env
        self.check = check  # an untimed argv whose success shows the token arrived


def spawn(argv, env, outdir):
    """Runs argv once (posix_spawn, wait4, nothing in between): wall ms, CPU
    ms of the process and what it waited for (user + sys, from wait4), exit
    code, and the end of its stderr."""
    err_path = outdir / "stderr"
    err_fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_DUP2, err_fd, 2),
    ]
    try:
        start = time.perf_counter_ns()
        pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
        _, status, usage = os.wait4(pid, 0)
        end = time.perf_counter_ns()
    finally:
        os.close(err_fd)
    cpu_ms = (usage.ru_utime + usage.ru_stime) * 1000
    return ((end - start) / 1e6, cpu_ms, os.waitstatus_to_exitcode(status),
            err_path.read_text(errors="replace"))


def main():
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rtok-bench-exec-")).resolve()
    keyring = None
    try:
        cargo = shutil.which("cargo")
        if not cargo:
            raise core.BenchError("`cargo` is needed: install Rust (https://rustup.rs)")
        meta = json.loads(subprocess.run(
            [cargo, "metadata", "--no-deps", "--format-version", "1"], cwd=ROOT, check=True,
            stdout=subprocess.PIPE).stdout)
        target = Path(meta["target_directory"])
        if not args.no_build:
            core.log("Building rtok (cargo build --release)...")
            subprocess.run([cargo, "build", "--release", "--locked"], cwd=ROOT, check=True,
                           stdout=sys.stderr)
        rtok = str(target / "release" / "rtok")
        true = shutil.which("true") or "/bin/true"

        base = {k: v for k, v in os.environ.items()
                if k not in core.REMOVED_VARS and k != "DBUS_SESSION_BUS_ADDRESS"
                and not k.upper().startswith(("NPM_", "RTOK_"))}
        base["NO_COLOR"] = "1"
        variants = [Variant("true", [true], dict(base)), Variant("rtok --version", [rtok, "--version"], dict(base))]

        # The token in the user .npmrc (what npm reads).
        file_home = tmp / "file-home"
        file_home.mkdir()
        (file_home / ".npmrc").write_text(f"registry={REGISTRY}\n{NERF}:_authToken={TOKEN}\n")
        os.chmod(file_home / ".npmrc", 0o600)
        file_env = dict(base, HOME=str(file_home), NPM_CONFIG_GLOBALCONFIG=str(tmp / "none"),
                        DBUS_SESSION_BUS_ADDRESS=f"unix:path={tmp}/no-bus")
        variants.append(Variant("rtok exec -- true (token in ~/.npmrc)",
                                [rtok, "exec", "--", true], file_env))

        # The token only in the keyring, moved there by rtok itself.
        keyring_home = tmp / "keyring-home"
        keyring_home.mkdir()
        (keyring_home / ".npmrc").write_text(f"registry={REGISTRY}\n{NERF}:_authToken={TOKEN}\n")
        os.chmod(keyring_home / ".npmrc", 0o600)
        keyring = PrivateKeyring(tmp, keyring_home)
        keyring_env = dict(base, HOME=str(keyring_home), NPM_CONFIG_GLOBALCONFIG=str(tmp / "none"),
                           DBUS_SESSION_BUS_ADDRESS=keyring.address)
        subprocess.run([rtok, "keyring", "import"], env=keyring_env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if TOKEN in (keyring_home / ".npmrc").read_text():
            raise core.BenchError("rtok keyring import left the token in the .npmrc")
        check = [rtok, "exec", "--", "sh", "-c", f'test "$NODE_AUTH_TOKEN" = {TOKEN}']
        variants.append(Variant("rtok exec -- true (token in the keyring)",
                                [rtok, "exec", "--", true], keyring_env, check))
        # pnpm 11+'s tokenHelper: `rtok token-helper <registry>`, the same
        # token from the file and from the keyring.
        variants.append(Variant("rtok token-helper (token in ~/.npmrc)",
                                [rtok, "token-helper", REGISTRY], file_env))
        variants.append(Variant("rtok token-helper (token in the keyring)",
                                [rtok, "token-helper", REGISTRY], keyring_env,
                                ["sh", "-c", f'test "$("{rtok}" token-helper {REGISTRY})" = "Bearer {TOKEN}"']))
        # For scale: libsecret's own command-line lookup of the same item.
        variants.append(Variant("secret-tool lookup (libsecret; the lookup alone, for comparison)",
                                [shutil.which("secret-tool"), "lookup", "service", "rtok",
                                 "username", NERF], keyring_env))

        # The token from a credential command.
        command_home = tmp / "command-home"
        (command_home / ".config" / "rtok").mkdir(parents=True)
        (command_home / ".npmrc").write_text(f"registry={REGISTRY}\n")
        echo = shutil.which("echo") or "/bin/echo"
        (command_home / ".config" / "rtok" / "config.toml").write_text(
            f'[registry."{REGISTRY}"]\ncredential-command = ["{echo}", "{TOKEN}"]\n')
        command_env = dict(base, HOME=str(command_home), NPM_CONFIG_GLOBALCONFIG=str(tmp / "none"),
                           DBUS_SESSION_BUS_ADDRESS=f"unix:path={tmp}/no-bus")
        variants.append(Variant("rtok exec -- true (token from `echo`, a credential command)",
                                [rtok, "exec", "--", true], command_env, check))

        outdir = tmp / "out"
        outdir.mkdir()
        os.chdir(tmp)
        for variant in variants:
            if variant.check:
                done = subprocess.run(variant.check, env=variant.env, stderr=subprocess.PIPE)
                if done.returncode != 0:
                    raise core.BenchError(f"{variant.name}: the token did not reach the command: "
                                          f"{done.stderr.decode(errors='replace')[-500:]}")
        samples = {v.name: [] for v in variants}
        cpu = {v.name: [] for v in variants}
        load_before = core.load_average()
        core.log(f"exec: {args.warmup} warm-up + {args.runs} measured run(s) of {len(variants)} variants")
        for r in range(args.warmup + args.runs):
            k = r % len(variants)
            for variant in variants[k:] + variants[:k]:
                wall, cpu_ms, code, err = spawn(variant.argv, variant.env, outdir)
                if code != 0:
                    raise core.BenchError(f"{variant.name}: exit code {code}: {err[-500:]}")
                if r >= args.warmup:
                    samples[variant.name].append(wall)
                    cpu[variant.name].append(cpu_ms)
        floor = core.median(samples["true"])
        rows = []
        for variant in variants:
            values = samples[variant.name]
            rows.append({"variant": variant.name, "median_ms": core.median(values),
                         "min_ms": min(values), "max_ms": max(values),
                         "added_ms": core.median(values) - floor,
                         "cpu_ms": core.median(cpu[variant.name]), "samples_ms": values})
        print(f"`rtok exec` overhead ({args.runs} runs each, {args.warmup} warm-up; "
              f"load average {load_before} before, {core.load_average()} after; "
              f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%dT%H:%M:%SZ}):\n")
        print("| command | median ms | min ms | max ms | added over `true`, ms | CPU ms (user+sys) |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for row in rows:
            print(f"| {row['variant']} | {row['median_ms']:.2f} | {row['min_ms']:.2f} | "
                  f"{row['max_ms']:.2f} | {row['added_ms']:.2f} | {row['cpu_ms']:.2f} |")
        json_path = Path(args.json) if args.json else target / "bench" / "exec.json"
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps({"runs": args.runs, "warmup": args.warmup, "rows": rows},
                                        indent=2) + "\n")
        core.log(f"Results written to {json_path}")
        return 0
    except core.BenchError as err:
        core.log(f"error: {err}")
        return 1
    except subprocess.CalledProcessError as err:
        core.log(f"error: `{' '.join(map(str, err.cmd))}` failed with exit code {err.returncode}")
        return 1
    except KeyboardInterrupt:
        core.log("\ninterrupted")
        return 130
    finally:
        if keyring:
            keyring.stop()
        os.chdir(ROOT)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
