#!/usr/bin/env node
// The `rtok` command of the npm package: finds the prebuilt binary that npm
// installed for this platform (one of the optionalDependencies, picked by
// their os/cpu/libc fields) and runs it with this process's arguments, stdio
// and exit status. No install script: everything happens here, at run time.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');

const { optionalDependencies } = require('../package.json');

// The C library on Linux, decided as npm decides it for `libc` fields
// (npm-install-checks): `/usr/bin/ldd` names it; else Node's own report.
function libc() {
  try {
    const ldd = fs.readFileSync('/usr/bin/ldd', 'utf8');
    if (ldd.includes('musl')) return 'musl';
    if (ldd.includes('GNU C Library')) return 'glibc';
  } catch {
    // No ldd (a minimal container): ask the report below.
  }
  const report = process.report && process.report.getReport();
  if (report && report.header && report.header.glibcVersionRuntime) return 'glibc';
  const objects = (report && report.sharedObjects) || [];
  if (objects.some((o) => o.includes('libc.musl-') || o.includes('ld-musl-'))) return 'musl';
  return 'unknown libc';
}

// This machine as the platform packages name it (`linux-x64-gnu`), and as a
// person reads it (`linux x64 glibc`).
function platform() {
  const { platform: system, arch } = process;
  if (system !== 'linux') return { key: `${system}-${arch}`, words: `${system} ${arch}` };
  const family = libc();
  const suffix = family === 'musl' ? 'musl' : 'gnu';
  return { key: `${system}-${arch}-${suffix}`, words: `${system} ${arch} ${family}` };
}

function fail(message, hint) {
  process.stderr.write(`error: ${message}\n`);
  if (hint) process.stderr.write(`hint: ${hint}\n`);
  process.exit(1);
}

const here = platform();
const name = `@rtok/cli-${here.key}`;
const elsewhere = '`cargo install rtok` or from https://github.com/rtok-dev/rtok/releases';
if (!Object.hasOwn(optionalDependencies, name)) {
  fail(
    `rtok has no prebuilt binary for this platform (${here.words})`,
    `get the binary with ${elsewhere}`,
  );
}
let binary;
try {
  binary = require.resolve(`${name}/bin/rtok${process.platform === 'win32' ? '.exe' : ''}`);
} catch {
  fail(
    `the rtok binary for this platform (${here.words}) is missing: the package ${name} is not installed`,
    'reinstall rtok with its optional dependencies (`npm install -g rtok`, without --omit=optional ' +
      `or --no-optional), or get the binary with ${elsewhere}`,
  );
}

const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit' });

// A signal sent to this process (e.g. `kill`, or a service manager stopping
// it) is passed on, so rtok can stop the way it would if run directly. Ctrl-C
// on a terminal already reaches both processes; the handler then only keeps
// this one alive until rtok has exited.
const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
const forward = (signal) => {
  try {
    child.kill(signal);
  } catch {
    // rtok has already gone; its exit is handled below.
  }
};
for (const signal of forwarded) process.on(signal, forward);

child.on('error', (err) => {
  fail(`could not run ${binary}: ${err.message}`, `reinstall the ${name} package`);
});

child.on('exit', (code, signal) => {
  if (signal === null) process.exit(code === null ? 1 : code);
  // rtok died of a signal: die of the same one, so a shell or parent sees
  // exactly what it would have seen without this launcher.
  for (const s of forwarded) process.removeListener(s, forward);
  try {
    process.kill(process.pid, signal);
  } catch {
    // A signal this platform cannot raise: fall through to the exit code.
  }
  // Still alive (the signal is ignored here, or cannot be raised): the
  // shells' convention, 128 + the signal's number.
  process.exit(128 + (os.constants.signals[signal] || 0));
});
