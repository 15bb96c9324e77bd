#!/usr/bin/env python3
"""`rtok scan` against the tools people use, on generated data. Standard
library only; run it as `scripts/bench scan` (options: `--help`).

What it does:
  1. builds rtok (`cargo build --release`);
  2. installs the peers into a temporary folder only (never for the tests):
     ripgrep from PyPI's `ripgrep` and detect-secrets in a venv, secretlint
     with @secretlint/secretlint-rule-npm under an npm prefix; prints their
     versions;
  3. generates a tree of about 200 MB in 20,000 files (dotfiles, a git
     repository with an ignored `node_modules/`) holding 50 planted secrets
     and 1,000 planted lookalikes, and a git repository of 5,000 commits in
     which secrets are committed and later deleted;
  4. times whole processes (warm cache: a warm-up run first), checks every
     run's output, and prints markdown tables: throughput against ripgrep
     searching the same tree for the token pattern with the same hidden-file
     and ignore settings (`rg -c --hidden -g '!.git'`); time against
     detect-secrets and secretlint with what each found (planted secrets
     found, lookalikes reported); `--git-history` against
     `git log --all -p | rg -c` on the 5,000-commit repository.

Nothing is asserted: the numbers depend on the machine and its load (the
load average is printed).
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATTERN = r"npm_[A-Za-z0-9]{36}"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
WORDS = (
    "const let var function return import export default async await from "
    "module require package version registry install build test deploy config "
    "value token secret name type string number object array promise error "
    "result data item list map filter reduce index length push pop shift the "
    "a of to and in is for on with that this by as be are was at or"
).split()


def log(message):
    print(message, file=sys.stderr, flush=True)


def parse_args():
    parser = argparse.ArgumentParser(
        prog="scripts/bench scan",
        description="Benchmark `rtok scan` against ripgrep, detect-secrets, "
        "secretlint and `git log -p | rg` on generated data.",
    )
    parser.add_argument("--runs", type=int, default=5, help="measured runs of the fast tools (default 5)")
    parser.add_argument("--slow-runs", type=int, default=1,
                        help="measured runs of detect-secrets and secretlint (default 1)")
    parser.add_argument("--quick", action="store_true", help="2 runs, a 20 MB tree and 500 commits")
    parser.add_argument("--no-build", action="store_true", help="use the existing release build")
    parser.add_argument("--no-peers", action="store_true",
                        help="skip detect-secrets and secretlint (ripgrep is always run)")
    parser.add_argument("--peer-mb", type=int, default=0,
                        help="run detect-secrets and secretlint (and rtok, for the ratio) on a "
                        "separate tree of this many MB with the same 50 secrets and 1,000 "
                        "lookalikes (default: the main tree; they take minutes per 10 MB)")
    parser.add_argument("--keep-temp", action="store_true", help="keep the generated data")
    parser.add_argument("--json", metavar="PATH", help="also write the samples here")
    args = parser.parse_args()
    if args.quick:
        args.runs = 2
    return args


def random_token(rng, length=36):
    return "npm_" + "".join(rng.choice(BASE62) for _ in range(length))


def filler_line(rng):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 16)))


class Tree:
    """The generated tree, with where each planted secret and lookalike is."""

    EXTENSIONS = [".js", ".ts", ".json", ".md", ".txt", ".yml", ".py", ".html"]

    def __init__(self, root, files, total_bytes, seed=13):
        self.root = root
        self.planted = {}  # (relpath, line) -> description
        self.lookalikes = {}  # (relpath, line) -> description
        self.bytes = 0
        rng = random.Random(seed)
        root.mkdir(parents=True)
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        (root / ".gitignore").write_text("node_modules/\n*.log\n")
        # Ignored by .gitignore: every tool with ignore support skips it.
        for i in range(50):
            ignored = root / "node_modules" / f"pkg{i}" / "index.js"
            ignored.parent.mkdir(parents=True, exist_ok=True)
            ignored.write_text(f"module.exports = '{random_token(rng)}'\n")
        average = total_bytes // files
        contents = {}
        paths = []
        for i in range(files):
            folder = f"src/m{i % 97:02d}/p{i % 13}"
            if i % 10 == 0:
                name = f".env.{i}"  # dotfiles are scanned too
            else:
                name = f"f{i}{rng.choice(self.EXTENSIONS)}"
            rel = f"{folder}/{name}"
            lines = []
            size = 0
            target = rng.randint(average // 2, average * 3 // 2)
            while size < target:
                line = filler_line(rng)
                lines.append(line)
                size += len(line) + 1
            contents[rel] = lines
            paths.append(rel)
        # 50 planted secrets, in the forms leaks take.
        secret_rels = rng.sample(paths, 35)
        forms = [
            lambda t: f'const NPM_TOKEN = "{t}";',
            lambda t: f"NPM_TOKEN={t}",
            lambda t: f"    token: {t}",
            lambda t: f'  "auth": "Bearer {t}",',
            lambda t: f"RUN echo //registry.npmjs.org/:_authToken={t} > .npmrc",
        ]
        for n, rel in enumerate(secret_rels):
            lines = contents[rel]
            at = rng.randrange(len(lines))
            lines.insert(at, forms[n % len(forms)](random_token(rng)))
            self.planted[(rel, at + 1)] = "npm token in a source file"
        for n in range(10):
            rel = f"apps/a{n}/.npmrc"
            contents[rel] = ["registry=https://registry.npmjs.org/",
                             f"//registry.npmjs.org/:_authToken={random_token(rng)}"]
            self.planted[(rel, 2)] = ".npmrc _authToken (npm token)"
            paths.append(rel)
        for n in range(3):
            rel = f"legacy/l{n}/.npmrc"
            uuid = "-".join("".join(rng.choice("0123456789abcdef") for _ in range(k)) for k in (8, 4, 4, 4, 12))
            contents[rel] = [f"//npm.example.com/:_authToken={uuid}"]
            self.planted[(rel, 1)] = ".npmrc _authToken (legacy UUID)"
            paths.append(rel)
        for n in range(1):
            rel = f"legacy/b{n}/.npmrc"
            contents[rel] = ["//npm.example.com/:_auth=YWxpY2U6czNjcjN0LXBhc3N3b3JkLTIwMjY="]
            self.planted[(rel, 1)] = ".npmrc _auth"
            paths.append(rel)
        for n in range(1):
            rel = f"yarn/y{n}/.yarnrc.yml"
            contents[rel] = ["nodeLinker: node-modules", f'npmAuthToken: "{random_token(rng)}"']
            self.planted[(rel, 2)] = ".yarnrc.yml npmAuthToken"
            paths.append(rel)
        assert len(self.planted) == 50, len(self.planted)
        # 1,000 lookalikes: near misses of each detector's pattern.
        looks = [
            ("one character short", lambda: f'const t = "{random_token(rng, 35)}";'),
            ("one character long", lambda: f'const t = "{random_token(rng, 37)}";'),
            ("inside a longer word", lambda: f"id = x{random_token(rng)}"),
            ("a variable reference", lambda: "//registry.npmjs.org/:_authToken=${NPM_TOKEN}"),
            ("an identifier", lambda: "const t = process.env.npm_token || process.env.npm_config_token;"),
            ("a mask from `token list`", lambda: "token: npm_aBcD...7890"),
            ("a placeholder", lambda: "NPM_TOKEN=npm_" + "X" * 36),
            ("a shell variable", lambda: "RUN echo //registry.npmjs.org/:_authToken=$NPM_TOKEN > .npmrc"),
        ]
        for n in range(1000):
            rel = paths[rng.randrange(len(paths) - 15)]  # not the small planted config files
            lines = contents[rel]
            at = rng.randrange(len(lines))
            kind, make = looks[n % len(looks)]
            lines.insert(at, make())
            # Later insertions shift earlier ones: recorded after the fact.
            self._shift(rel, at + 1)
            self.lookalikes[(rel, at + 1)] = kind
        for rel, lines in contents.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            text = "\n".join(lines) + "\n"
            path.write_text(text)
            self.bytes += len(text)
        self.files = len(contents)

    def _shift(self, rel, line):
        """An inserted line moves every recorded line at or below it down."""
        for table in (self.planted, self.lookalikes):
            moved = {}
            for (r, l), what in list(table.items()):
                if r == rel and l >= line:
                    del table[(r, l)]
                    moved[(r, l + 1)] = what
            table.update(moved)

    def judge(self, hits):
        """(planted found, lookalikes reported, other reports) for a set of
        (relpath, line) a tool reported."""
        hits = set(hits)
        found = sum(1 for key in self.planted if key in hits)
        false = sum(1 for key in self.lookalikes if key in hits)
        other = len(hits) - found - false
        return found, false, other


def make_history(root, commits, seed=29):
    """A repository of `commits` commits made with `git fast-import`: 200
    files edited a little in every commit; every 50th commit adds a secret
    file that a later commit deletes. Returns the planted (path, token)."""
    rng = random.Random(seed)
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    files = {f"src/file{i}.js": [filler_line(rng) for _ in range(120)] for i in range(200)}
    planted = []
    out = []
    mark = 0

    def blob(text):
        nonlocal mark
        mark += 1
        data = text.encode()
        out.append(b"blob\nmark :%d\ndata %d\n" % (mark, len(data)) + data + b"\n")
        return mark

    when = 1_700_000_000
    live_secrets = []
    for n in range(commits):
        changes = []
        if n == 0:
            for path, lines in files.items():
                changes.append((path, blob("\n".join(lines) + "\n")))
        else:
            for _ in range(rng.randint(1, 2)):
                path = f"src/file{rng.randrange(200)}.js"
                lines = files[path]
                lines[rng.randrange(len(lines))] = filler_line(rng)
                changes.append((path, blob("\n".join(lines) + "\n")))
        deletes = []
        if n % 50 == 25:
            token = random_token(rng)
            path = f"config/leak{n}.env"
            changes.append((path, blob(f"NPM_TOKEN={token}\n")))
            planted.append((path, token))
            live_secrets.append(path)
        if n % 50 == 40 and live_secrets:
            deletes.append(live_secrets.pop())
        when += 60
        message = f"commit {n}".encode()
        head = b"commit refs/heads/main\nmark :%d\n" % (100_000_000 + n)
        head += b"author Bench <bench@example.invalid> %d +0000\n" % when
        head += b"committer Bench <bench@example.invalid> %d +0000\n" % when
        head += b"data %d\n%s\n" % (len(message), message)
        if n > 0:
            head += b"from :%d\n" % (100_000_000 + n - 1)
        body = b"".join(b"M 100644 :%d %s\n" % (m, p.encode()) for p, m in changes)
        body += b"".join(b"D %s\n" % p.encode() for p in deletes)
        out.append(head + body + b"\n")
    subprocess.run(["git", "-C", str(root), "fast-import", "--quiet"],
                   input=b"".join(out), check=True)
    subprocess.run(["git", "-C", str(root), "checkout", "-q", "main"], check=True)
    return planted


def run(argv, cwd=None, env=None, shell=False):
    """Wall time in ms of one whole process, its exit code and stdout."""
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, shell=shell, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    elapsed = (time.perf_counter() - start) * 1000
    return elapsed, proc.returncode, proc.stdout, proc.stderr


def measure(name, argv, runs, check, cwd=None, env=None, shell=False, warmup=True):
    """A warm-up run (checked), then `runs` measured runs: the median. The
    slow peers skip the warm-up: the tree is in the page cache by then."""
    out = b""
    if warmup:
        log(f"  {name}: warm-up")
        ms, code, out, err = run(argv, cwd, env, shell)
        problem = check(code, out)
        if problem:
            raise SystemExit(f"error: {name}: {problem}\n{err.decode(errors='replace')[-2000:]}")
    samples = []
    for i in range(runs):
        ms, code, out, err = run(argv, cwd, env, shell)
        problem = check(code, out)
        if problem:
            raise SystemExit(f"error: {name} (run {i + 1}): {problem}")
        samples.append(ms)
    log(f"  {name}: median {statistics.median(samples):.0f} ms")
    return {"tool": name, "samples_ms": samples, "median_ms": statistics.median(samples), "out": out}


def version(argv, env=None):
    try:
        text = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              env=env, check=False).stdout.decode(errors="replace")
        return text.strip().splitlines()[0]
    except (OSError, IndexError):
        return "unknown"


def install_peers(tmp, with_slow):
    """ripgrep (and detect-secrets) in a venv, secretlint under an npm
    prefix; returns the paths of the programs."""
    venv = tmp / "venv"
    log("installing peers into a temporary venv and npm prefix (not used by the tests)")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run(pip + ["ripgrep"] + (["detect-secrets"] if with_slow else []), check=True)
    tools = {"rg": venv / "bin" / "rg"}
    if with_slow:
        tools["detect-secrets"] = venv / "bin" / "detect-secrets"
        prefix = tmp / "node"
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(prefix),
                        "secretlint", "@secretlint/secretlint-rule-npm"], check=True)
        tools["secretlint"] = prefix / "node_modules" / ".bin" / "secretlint"
        tools["node_modules"] = prefix / "node_modules"
    return tools


def rtok_hits(out):
    return {(f["file"], f["line"]) for f in json.loads(out)["findings"]}


def main():
    args = parse_args()
    for program in ["cargo", "git", "npm"]:
        if not shutil.which(program):
            raise SystemExit(f"error: `{program}` is needed for the scan benchmark")
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    if not args.no_build:
        log("building rtok (cargo build --release)")
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    rtok = target / "release" / "rtok"
    tmp = Path(tempfile.mkdtemp(prefix="rtok-bench-scan-"))
    try:
        bench(args, rtok, tmp)
    finally:
        if args.keep_temp:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def bench(args, rtok, tmp):
    with_slow = not args.no_peers
    tools = install_peers(tmp, with_slow)
    env = dict(os.environ, HOME=str(tmp / "home"), NO_COLOR="1")
    (tmp / "home").mkdir()
    load_before = os.getloadavg()[0]

    size, files, commits = (20_000_000, 2_000, 500) if args.quick else (200_000_000, 20_000, 5_000)
    log(f"generating a tree of about {size // 1_000_000} MB in {files} files")
    tree = Tree(tmp / "tree", files, size)
    log(f"generating a repository of {commits} commits")
    history_planted = make_history(tmp / "repo", commits)

    versions = {
        "rtok": version([str(rtok), "--version"]),
        "ripgrep": version([str(tools["rg"]), "--version"]),
        "git": version(["git", "--version"]),
    }
    if with_slow:
        versions["detect-secrets"] = "detect-secrets " + version([str(tools["detect-secrets"]), "--version"])
        versions["secretlint"] = "secretlint " + version([str(tools["secretlint"]), "--version"], env)
        rule = tools["node_modules"] / "@secretlint" / "secretlint-rule-npm" / "package.json"
        versions["secretlint-rule-npm"] = "@secretlint/secretlint-rule-npm " + json.loads(rule.read_text())["version"]

    def expect_rtok(code, out):
        if code != 1:
            return f"exit code {code}, expected 1 (found)"
        found, false, _ = tree.judge(rtok_hits(out))
        return None if found == 50 and false == 0 else f"found {found}/50, {false} lookalikes"

    def expect_rg(code, out):
        return None if code == 0 and out.strip() else f"exit code {code}"

    results = {}
    log("tree scan")
    results["rtok"] = measure("rtok scan", [str(rtok), "scan", "--format", "json", "."], args.runs,
                              expect_rtok, cwd=tree.root, env=env)
    results["rg"] = measure("rg -c", [str(tools["rg"]), "-c", "--hidden", "-g", "!.git", PATTERN, "."],
                            args.runs, expect_rg, cwd=tree.root, env=env)
    # What ripgrep matches, for the table (its -n output, untimed).
    rg_lines = subprocess.run([str(tools["rg"]), "-n", "--no-heading", "--hidden", "-g", "!.git", PATTERN, "."],
                              cwd=tree.root, stdout=subprocess.PIPE, check=False).stdout.decode()
    rg_hits = set()
    for line in rg_lines.splitlines():
        path, number, _ = line.split(":", 2)
        rg_hits.add((path.removeprefix("./"), int(number)))

    found_table = {"rtok": tree.judge(rtok_hits(results["rtok"]["out"])), "ripgrep (pattern only)": tree.judge(rg_hits)}

    peer = tree
    if with_slow:
        def expect_any(code, out):
            return None if out.strip() else f"no output (exit code {code})"

        if args.peer_mb and args.peer_mb * 1_000_000 < size:
            log(f"generating the peers' tree of about {args.peer_mb} MB")
            peer = Tree(tmp / "peer-tree", args.peer_mb * 100, args.peer_mb * 1_000_000, seed=17)
            results["rtok-peer-tree"] = measure(
                "rtok scan (peers' tree)", [str(rtok), "scan", "--format", "json", "."], args.runs,
                lambda code, out: None if peer.judge(rtok_hits(out))[0] == 50 else "missed secrets",
                cwd=peer.root, env=env)
        results["detect-secrets"] = measure(
            "detect-secrets", [str(tools["detect-secrets"]), "scan", "--all-files", "."],
            args.slow_runs, expect_any, cwd=peer.root, env=env, warmup=False)
        report = json.loads(results["detect-secrets"]["out"])
        ds_hits = {(path.removeprefix("./"), r["line_number"])
                   for path, found in report["results"].items() for r in found}
        if peer is not tree:
            found_table["rtok (peers' tree)"] = peer.judge(rtok_hits(results["rtok-peer-tree"]["out"]))
        found_table["detect-secrets"] = peer.judge(ds_hits)

        (peer.root / ".secretlintrc.json").write_text(
            json.dumps({"rules": [{"id": "@secretlint/secretlint-rule-npm"}]}))
        # Node cuts a large stdout short when it exits on a pipe: the report
        # goes to a file (outside the tree, so it is not scanned).
        sl_out = tmp / "secretlint.json"

        def secretlint_wrote(code, out):
            return None if sl_out.exists() and sl_out.stat().st_size else f"no report (exit code {code})"

        results["secretlint"] = measure(
            "secretlint", [str(tools["secretlint"]), "--format", "json", "--no-maskSecrets",
                           "--output", str(sl_out), "**/*"],
            args.slow_runs, secretlint_wrote, cwd=peer.root, env=env, warmup=False)
        sl_hits = set()
        for entry in json.loads(sl_out.read_text()):
            rel = os.path.relpath(entry["filePath"], peer.root)
            for message in entry.get("messages", []):
                sl_hits.add((rel, message["loc"]["start"]["line"]))
        found_table["secretlint (npm rule)"] = peer.judge(sl_hits)
        (peer.root / ".secretlintrc.json").unlink()

    log("git history")

    def expect_history(code, out):
        if code != 1:
            return f"exit code {code}, expected 1"
        found = {f["file"] for f in json.loads(out)["findings"]}
        missing = [p for p, _ in history_planted if p not in found]
        return f"missed {len(missing)} planted secrets" if missing else None

    def expect_count(code, out):
        return None if code == 0 and int(out.strip() or 0) > 0 else f"exit code {code}"

    results["history-rtok"] = measure("rtok scan --git-history",
                                      [str(rtok), "scan", "--git-history", "--format", "json"],
                                      args.runs, expect_history, cwd=tmp / "repo", env=env)
    results["history-pipe"] = measure("git log --all -p | rg -c",
                                      f"git log --all -p | '{tools['rg']}' -c '{PATTERN}'",
                                      args.runs, expect_count, cwd=tmp / "repo", env=env, shell=True)

    report_markdown(args, versions, tree, peer, results, found_table, commits, history_planted,
                    load_before)
    if args.json:
        for value in results.values():
            value.pop("out", None)
        Path(args.json).write_text(json.dumps({"versions": versions, "results": results}, indent=2))


def report_markdown(args, versions, tree, peer, results, found_table, commits, history_planted,
                    load_before):
    mb = tree.bytes / 1e6
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    print(f"`rtok scan` benchmark: {', '.join(versions.values())}; {os.cpu_count()} × {cpu}; "
          f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after; "
          f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}.")
    print()
    print(f"Tree: {tree.files:,} files, {mb:.0f} MB, 50 planted secrets, 1,000 planted lookalikes "
          f"(and 50 more secrets under a git-ignored `node_modules/`). Warm page cache; median of "
          f"{args.runs} runs after a warm-up ({args.slow_runs} for detect-secrets and secretlint, "
          f"without one).")
    print()
    print("| tool | median ms | MB/s | vs rtok |")
    print("| --- | ---: | ---: | ---: |")
    base = results["rtok"]["median_ms"]
    for key, label in [("rtok", "`rtok scan --format json .`"),
                       ("rg", "`rg -c --hidden -g '!.git' 'npm_[A-Za-z0-9]{36}' .`")]:
        ms = results[key]["median_ms"]
        print(f"| {label} | {ms:.0f} | {mb / (ms / 1000):.0f} | {ms / base:.2f}× |")
    print()
    if "detect-secrets" in results:
        pbase = results.get("rtok-peer-tree", results["rtok"])["median_ms"]
        pmb = peer.bytes / 1e6
        print(f"Peers, on {'the same tree' if peer is tree else f'a tree of {peer.files:,} files, {pmb:.0f} MB, with the same 50 secrets and 1,000 lookalikes'}:")
        print()
        print("| tool | median ms | MB/s | vs rtok |")
        print("| --- | ---: | ---: | ---: |")
        for key, label in [("rtok-peer-tree" if peer is not tree else "rtok", "`rtok scan --format json .`"),
                           ("detect-secrets", "`detect-secrets scan --all-files .`"),
                           ("secretlint", "`secretlint --format json '**/*'` (npm rule only)")]:
            ms = results[key]["median_ms"]
            print(f"| {label} | {ms:.0f} | {pmb / (ms / 1000):.1f} | {ms / pbase:.0f}× |")
        print()
    print("| tool | planted secrets found (of 50) | lookalikes reported (of 1,000) | other reports |")
    print("| --- | ---: | ---: | ---: |")
    for tool, (found, false, other) in found_table.items():
        print(f"| {tool} | {found} | {false} | {other} |")
    print()
    print(f"History: {commits:,} commits, {len(history_planted)} secrets committed then deleted.")
    print()
    print("| tool | median ms | vs rtok |")
    print("| --- | ---: | ---: |")
    hbase = results["history-rtok"]["median_ms"]
    for key, label in [("history-rtok", "`rtok scan --git-history --format json`"),
                       ("history-pipe", "`git log --all -p \\| rg -c 'npm_[A-Za-z0-9]{36}'`")]:
        ms = results[key]["median_ms"]
        print(f"| {label} | {ms:.0f} | {ms / hbase:.2f}× |")
    print()
    rg = results["rg"]["median_ms"]
    print("| goal (issue 13) | measured | met |")
    print("| --- | ---: | --- |")
    ratio = rg / base
    print(f"| throughput ≥ 0.5× ripgrep's | {ratio:.2f}× | {'yes' if ratio >= 0.5 else 'no'} |")
    for key in ("detect-secrets", "secretlint"):
        if key in results:
            r = results[key]["median_ms"] / results.get("rtok-peer-tree", results["rtok"])["median_ms"]
            print(f"| ≥ 10× faster than {key} | {r:.0f}× | {'yes' if r >= 10 else 'no'} |")
    found, false, _ = found_table["rtok"]
    print(f"| all 50 planted found, 0 lookalikes | {found} / {false} | {'yes' if found == 50 and false == 0 else 'no'} |")
    h = hbase / results["history-pipe"]["median_ms"]
    print(f"| `--git-history` ≤ 2× `git log -p \\| rg -c` | {h:.2f}× | {'yes' if h <= 2 else 'no'} |")


if __name__ == "__main__":
    main()
