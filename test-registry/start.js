// Starts the pinned Verdaccio for rtok's tests, demo and benchmark.
//
// usage: node start.js <state-dir> [port]
//
// Everything Verdaccio keeps (config, htpasswd, storage) lives in <state-dir>.
// It listens on 127.0.0.1 (port 0 = a free port chosen by the kernel, so
// parallel runs never collide), has no uplinks (it never reaches the
// internet) and prints one line, `{"port":N}`, on stdout once it accepts
// connections. It exits when its stdin closes, so a test harness that dies
// without cleaning up still takes the registry down with it.
'use strict';

const fs = require('fs');
const path = require('path');
const { runServer } = require('verdaccio');

async function main() {
  const stateDir = path.resolve(process.argv[2] || fs.mkdtempSync('/tmp/rtok-verdaccio-'));
  const port = Number(process.argv[3] || 0);
  fs.mkdirSync(path.join(stateDir, 'storage'), { recursive: true });
  const htpasswd = path.join(stateDir, 'htpasswd');
  const configPath = path.join(stateDir, 'config.yaml');
  fs.writeFileSync(configPath, [
    `storage: ${JSON.stringify(path.join(stateDir, 'storage'))}`,
    'auth:',
    '  htpasswd:',
    `    file: ${JSON.stringify(htpasswd)}`,
    '    max_users: 100000',
    // bcrypt at its lowest cost: the tests create many users, and the
    // hashing strength of a throw-away registry does not matter.
    '    rounds: 4',
    'uplinks: {}',
    // Verdaccio rate-limits the user and token endpoints (1000 requests per
    // 15 minutes by default); a test suite makes more than that.
    'userRateLimit:',
    '  windowMs: 1000',
    '  max: 1000000',
    'packages:',
    "  '**':",
    '    access: $authenticated',
    '    publish: $authenticated',
    'server:',
    '  keepAliveTimeout: 60',
    'log: { type: stdout, format: pretty, level: error }',
    '',
  ].join('\n'));

  const server = await runServer(configPath);
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
  });

  const stop = () => server.close(() => process.exit(0));
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
}

main().catch((err) => {
  process.stderr.write(`verdaccio failed to start: ${err && err.stack || err}\n`);
  process.exit(1);
});
