#!/usr/bin/env python3
"""What the npm launcher costs: `rtok --version` run as the binary itself,
through the npm package's launcher (`<prefix>/bin/rtok`, a Node.js script
that runs the binary), and through `npm exec` (what `npx rtok` does), with
`node -e 0` as the floor of any JavaScript launcher.

Run it as `scripts/bench dist` (see the Benchmark section of README.md).
Standard library only; it reuses scripts/bench.py's process runner.

It builds the release binary (unless --no-build), packs the npm packages
around it with scripts/package-npm, installs them with
`npm install -g --prefix <tmp> --ignore-scripts --offline` into a temporary
folder (its own HOME, npm cache and user config), then times the tools
alternately, run by run, each run checked. No result is asserted.
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
import bench  # noqa: E402  (scripts/bench.py: Runner, median, load_average, ...)

ROOT = bench.ROOT


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="scripts/bench dist",
        description="Times `rtok --version` as the binary, through the npm launcher and "
                    "through `npm exec`.")
    parser.add_argument("--runs", type=int, default=20, help="measured runs per tool (20)")
    parser.add_argument("--warmup", type=int, default=3,
                        help="warm-up runs per tool, also where peak RSS is taken (3)")
    parser.add_argument("--quick", action="store_true", help="3 runs and 1 warm-up: a smoke run")
    parser.add_argument("--no-build", action="store_true",
                        help="use the existing target/release/rtok")
    parser.add_argument("--json", metavar="PATH",
                        help="where to write the samples (default <target-dir>/bench/dist.json)")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.warmup = 3, 1
    return args


def need(program, why):
    path = shutil.which(program)
    if not path:
        raise bench.BenchError(f"`{program}` is needed for this benchmark: {why}")
    return path


def setup(args, tmp):
    """Builds, packs and installs; the tools as (name, argv) and the metadata."""
    cargo = need("cargo", "install Rust (https://rustup.rs)")
    npm = need("npm", "install npm 11 (it comes with Node.js)")
    node = need("node", "install Node.js 20 or newer (Debian: apt-get install nodejs)")
    meta = json.loads(subprocess.run([cargo, "metadata", "--no-deps", "--format-version", "1"],
                                     cwd=ROOT, check=True, stdout=subprocess.PIPE).stdout)
    target_dir = Path(meta["target_directory"])
    if not args.no_build:
        bench.log("Building rtok (cargo build --release)...")
        subprocess.run([cargo, "build", "--release", "--locked"], cwd=ROOT, check=True,
                       stdout=sys.stderr)
    binary = target_dir / "release" / "rtok"
    if not binary.is_file():
        raise bench.BenchError(f"{binary} is missing (run without --no-build)")

    home, project = tmp / "home", tmp / "project"
    home.mkdir()
    project.mkdir()
    (project / "package.json").write_text('{"name": "bench-dist", "version": "1.0.0", "private": true}\n')
    env = {k: v for k, v in os.environ.items()
           if k not in bench.REMOVED_VARS and not k.upper().startswith(("NPM_", "RTOK_"))}
    env.update({
        "HOME": str(home),
        "NO_COLOR": "1",
        "npm_config_userconfig": str(home / ".npmrc"),
        "npm_config_cache": str(tmp / "npm-cache"),
        "npm_config_globalconfig": str(tmp / "global-npmrc"),
        "npm_config_update_notifier": "false",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
        "npm_config_loglevel": "warn",
    })

    bench.log("Packing the npm packages (scripts/package-npm)...")
    packed = subprocess.run([str(ROOT / "scripts" / "package-npm"), "--binary", str(binary),
                             "--out", str(tmp / "npm")],
                            cwd=ROOT, check=True, stdout=subprocess.PIPE, env=env)
    launcher, platform = packed.stdout.decode().split()
    bench.log("Installing them (npm install -g --ignore-scripts --offline)...")
    prefix = tmp / "prefix"
    subprocess.run([npm, "install", "--global", "--prefix", str(prefix), "--ignore-scripts",
                    "--offline", launcher, platform], cwd=project, env=env, check=True,
                   stdout=sys.stderr)
    exec_argv = [npm, "exec", "--yes", "--offline", "--package", launcher, "--package", platform,
                 "--", "rtok", "--version"]
    # The first `npm exec` fills its cache; the measured ones reuse it, as
    # a second `npx rtok` does.
    subprocess.run(exec_argv, cwd=project, env=env, check=True, stdout=subprocess.DEVNULL)

    tools = [
        ("binary", [str(binary), "--version"]),
        ("npm launcher", [str(prefix / "bin" / "rtok"), "--version"]),
        ("npm exec", exec_argv),
        ("node -e 0", [node, "-e", "0"]),
    ]
    versions = {
        "rtok": subprocess.run([str(binary), "--version"], stdout=subprocess.PIPE).stdout.decode().strip(),
        "node": subprocess.run([node, "--version"], stdout=subprocess.PIPE).stdout.decode().strip(),
        "npm": subprocess.run([npm, "--version"], stdout=subprocess.PIPE, env=env,
                              cwd=project).stdout.decode().strip(),
    }
    return tools, env, project, target_dir, versions


def measure(args, tools, runner, expected):
    samples = {name: [] for name, _ in tools}
    peaks = {name: [] for name, _ in tools}
    bench.log(f"{args.warmup} warm-up + {args.runs} measured runs of each of "
              f"{', '.join(name for name, _ in tools)}")
    for r in range(args.warmup + args.runs):
        k = r % len(tools)
        for name, argv in tools[k:] + tools[:k]:
            warming = r < args.warmup
            wall_ms, code, out_path, err_path, peak = runner.run(
                name.replace(" ", "-"), argv, rss=warming)
            out = out_path.read_text(errors="replace")
            want = "" if name == "node -e 0" else expected
            if code != 0 or out != want:
                raise bench.BenchError(
                    f"{name} failed (exit code {code}, stdout {out!r})\n"
                    f"stderr:\n{err_path.read_text(errors='replace')[-2000:]}")
            if warming:
                if peak is not None:
                    peaks[name].append(peak)
            else:
                samples[name].append(wall_ms)
        print(".", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr, flush=True)
    return samples, peaks


def report(tools, samples, peaks, meta):
    base = bench.median(samples["binary"])
    launcher = bench.median(samples["npm launcher"])
    floor = bench.median(samples["node -e 0"])
    lines = [
        f"{meta['rtok']} ({meta['rtok_commit']}), node {meta['node']}, npm {meta['npm']}; "
        f"load average {meta['load_before']} before, {meta['load_after']} after; {meta['date']}",
        "",
        f"`--version`, wall time of the whole process: median, min and max of {meta['runs']} runs "
        f"per tool, alternated run by run, after {meta['warmup']} warm-up runs.",
        "",
        "| how rtok is run | median ms | min ms | max ms | peak RSS MiB | time vs binary |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, _ in tools:
        walls, rss = samples[name], peaks[name]
        lines.append(
            f"| {name} | {bench.median(walls):.1f} | {min(walls):.1f} | {max(walls):.1f} | "
            f"{bench.fmt(bench.median(rss) / 1024 if rss else None)} | "
            f"{bench.median(walls) / base:.2f}× |")
    lines += [
        "",
        f"The launcher adds {launcher - base:.1f} ms to a run; Node.js's own start-up "
        f"(`node -e 0`) is {floor:.1f} ms of that. Putting the binary itself on PATH avoids it.",
    ]
    return "\n".join(lines) + "\n"


def main(argv):
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="rtok-bench-dist-"))
    try:
        tools, env, project, target_dir, versions = setup(args, tmp)
        outdir = tmp / "runs"
        outdir.mkdir()
        time_path = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
        runner = bench.Runner(env, outdir, time_path)
        os.chdir(project)
        load_before = bench.load_average()
        samples, peaks = measure(args, tools, runner, versions["rtok"] + "\n")
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode().strip()
        meta = {
            **versions,
            "rtok_commit": commit or "?",
            "runs": args.runs,
            "warmup": args.warmup,
            "load_before": load_before,
            "load_after": bench.load_average(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        print(report(tools, samples, peaks, meta), end="")
        path = Path(args.json) if args.json else target_dir / "bench" / "dist.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({
            "meta": meta,
            "tools": {name: {"command": argv, "wall_ms": samples[name], "peak_rss_kib": peaks[name]}
                      for name, argv in tools},
        }, indent=2) + "\n")
        bench.log(f"Samples written to {path}")
    except bench.BenchError as err:
        bench.log(f"error: {err}")
        return 1
    except subprocess.CalledProcessError as err:
        bench.log(f"error: `{' '.join(map(str, err.cmd))}` failed with exit code {err.returncode}")
        return 1
    except KeyboardInterrupt:
        bench.log("\ninterrupted")
        return 130
    finally:
        os.chdir(ROOT)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
