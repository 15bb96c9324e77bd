//! A real, private Secret Service for the keyring tests: a D-Bus session
//! bus of its own (`dbus-daemon` with a config that activates nothing, so
//! no daemon of the machine is ever started on it) and, unless asked for a
//! bare bus, `gnome-keyring-daemon --unlock --components=secrets` with the
//! test's HOME. `secret-tool` checks from outside what rtok stored. Dropping
//! it stops exactly the processes it started, by pid.
//!
//! ```text
//! let env = TestEnv::new();
//! let keyring = PrivateKeyring::start(&env);
//! let run = keyring.apply(env.rtok().args(["keyring", "import"])).run();
//! assert_eq!(keyring.secret_tool_lookup("//127.0.0.1:4873/"), Some(token));
//! assert_no_file_contains(&env.root, &token);
//! ```

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::env::{RtokCmd, TestEnv};
use super::verdaccio::find_on_path;

/// How long the bus and the keyring daemon may take to come up.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The programs the harness runs and the Debian packages that have them.
const TOOLS: [(&str, &str); 4] = [
    ("dbus-daemon", "dbus"),
    ("dbus-send", "dbus"),
    ("gnome-keyring-daemon", "gnome-keyring"),
    ("secret-tool", "libsecret-tools"),
];

/// A private session bus, with or without a Secret Service on it.
pub struct PrivateKeyring {
    /// The bus's socket, config and the daemons' logs.
    dir: tempfile::TempDir,
    /// HOME of the keyring daemon (the test's), where it keeps its files.
    home: PathBuf,
    /// `DBUS_SESSION_BUS_ADDRESS` of the private bus.
    pub address: String,
    bus: Child,
    daemon: Option<Child>,
}

impl PrivateKeyring {
    /// A private bus with gnome-keyring's Secret Service on it, its login
    /// collection created and unlocked, keeping its files under `env.home`.
    pub fn start(env: &TestEnv) -> PrivateKeyring {
        let mut keyring = PrivateKeyring::bus(&env.home);
        keyring.start_daemon();
        keyring
    }

    /// A private bus with nothing providing `org.freedesktop.secrets`.
    pub fn bus_only(env: &TestEnv) -> PrivateKeyring {
        PrivateKeyring::bus(&env.home)
    }

    /// The variables a run needs to reach this keyring.
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        vec![("DBUS_SESSION_BUS_ADDRESS", self.address.clone())]
    }

    /// `cmd` with this keyring's variables.
    pub fn apply(&self, mut cmd: RtokCmd) -> RtokCmd {
        for (name, value) in self.env_vars() {
            cmd = cmd.env(name, value);
        }
        cmd
    }

    /// `secret-tool lookup service rtok username <nerf>`: what the keyring
    /// holds for that registry, seen from outside rtok.
    pub fn secret_tool_lookup(&self, nerf: &str) -> Option<String> {
        let out = self
            .tool("secret-tool")
            .args(["lookup", "service", "rtok", "username", nerf])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run secret-tool lookup: {e}"));
        // Exit 1 with no output: no such item.
        if !out.status.success() && out.stdout.is_empty() {
            return None;
        }
        Some(String::from_utf8(out.stdout).expect("secret-tool prints UTF-8"))
    }

    /// `secret-tool store` of `secret` for `nerf`, as another program (or
    /// an earlier rtok) would have left it.
    pub fn secret_tool_store(&self, nerf: &str, secret: &str) {
        let mut child = self
            .tool("secret-tool")
            .args([
                "store",
                "--label=test item",
                "service",
                "rtok",
                "username",
                nerf,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("run secret-tool store: {e}"));
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin
            .write_all(secret.as_bytes())
            .expect("feed secret-tool");
        drop(stdin);
        let out = child.wait_with_output().expect("wait for secret-tool");
        assert!(
            out.status.success(),
            "secret-tool store failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Locks the login collection, as a screen lock or a timeout would.
    pub fn lock(&self) {
        let out = self
            .tool("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/collection/login",
            ])
            .stdin(Stdio::null())
            .output()
            .expect("run dbus-send");
        assert!(
            out.status.success(),
            "locking the keyring failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The pids this keyring started (bus, then daemon).
    pub fn pids(&self) -> Vec<u32> {
        let mut pids = vec![self.bus.id()];
        pids.extend(self.daemon.as_ref().map(Child::id));
        pids
    }

    fn bus(home: &Path) -> PrivateKeyring {
        require_tools();
        let dir = tempfile::Builder::new()
            .prefix("rtok-dbus-")
            .tempdir()
            .expect("create the bus's temporary directory");
        // Standard session policy, but no service directories: nothing is
        // ever activated on this bus, so a bus without the keyring daemon
        // stays without one.
        let config = dir.path().join("session.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                dir.path().display()
            ),
        )
        .expect("write the bus config");
        let log = std::fs::File::create(dir.path().join("dbus-daemon.log")).expect("bus log");
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start dbus-daemon: {e}"));
        let stdout = bus.stdout.take().expect("piped stdout");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let address = match receiver.recv_timeout(START_TIMEOUT) {
            Ok(line) if !line.trim().is_empty() => line.trim().to_string(),
            _ => {
                let _ = bus.kill();
                let _ = bus.wait();
                let log =
                    std::fs::read_to_string(dir.path().join("dbus-daemon.log")).unwrap_or_default();
                panic!("dbus-daemon printed no address within {START_TIMEOUT:?}:\n{log}");
            }
        };
        PrivateKeyring {
            dir,
            home: home.to_path_buf(),
            address,
            bus,
            daemon: None,
        }
    }

    fn start_daemon(&mut self) {
        let log = |name: &str| std::fs::File::create(self.dir.path().join(name)).expect("log");
        let mut daemon = self
            .tool("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(log("gnome-keyring.out"))
            .stderr(log("gnome-keyring.err"))
            .spawn()
            .unwrap_or_else(|e| panic!("start gnome-keyring-daemon: {e}"));
        // A password unlocks (and first creates) the login collection; an
        // empty one would make the daemon look for a graphical prompter.
        let mut stdin = daemon.stdin.take().expect("piped stdin");
        stdin
            .write_all(b"rtok-test-keyring-password")
            .expect("feed gnome-keyring-daemon its password");
        drop(stdin);
        self.daemon = Some(daemon);

        let started = Instant::now();
        while !self.default_collection_ready() {
            if started.elapsed() > START_TIMEOUT {
                let err = std::fs::read_to_string(self.dir.path().join("gnome-keyring.err"))
                    .unwrap_or_default();
                panic!(
                    "gnome-keyring-daemon did not serve an unlocked default collection within {START_TIMEOUT:?}:\n{err}"
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the Secret Service answers with a default collection.
    fn default_collection_ready(&self) -> bool {
        let out = self
            .tool("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.ReadAlias",
                "string:default",
            ])
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(out) if out.status.success() => {
                let text = String::from_utf8_lossy(&out.stdout);
                text.contains("object path \"/org/freedesktop/secrets/collection/")
            }
            _ => false,
        }
    }

    /// A helper program that talks to this bus, with nothing else of the
    /// machine's environment.
    fn tool(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address);
        command
    }
}

impl Drop for PrivateKeyring {
    fn drop(&mut self) {
        // Exactly the processes started here, by their Child handles.
        if let Some(mut daemon) = self.daemon.take() {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

/// Fails the test, naming the packages, when a program the harness needs
/// is missing.
fn require_tools() {
    let missing: Vec<&str> = TOOLS
        .iter()
        .filter(|(tool, _)| find_on_path(tool).is_none())
        .map(|(tool, _)| *tool)
        .collect();
    if !missing.is_empty() {
        panic!(
            "the keyring tests need {}: install the Debian packages dbus, gnome-keyring and libsecret-tools (`apt-get install dbus gnome-keyring libsecret-tools`; .ci/run does this)",
            missing
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// Fails the test if any file under `root` (searched whole, hidden files
/// included, symlinks not followed) contains `secret`; the message names
/// the file, never the secret.
#[track_caller]
pub fn assert_no_file_contains(root: &Path, secret: &str) {
    assert!(
        !secret.is_empty(),
        "assert_no_file_contains with an empty secret"
    );
    let mut holding = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file()
                && let Ok(bytes) = std::fs::read(&path)
                && bytes
                    .windows(secret.len())
                    .any(|window| window == secret.as_bytes())
            {
                holding.push(path.display().to_string());
            }
        }
    }
    assert!(
        holding.is_empty(),
        "the token ({}…) is in files under {}: {}",
        secret.chars().take(4).collect::<String>(),
        root.display(),
        holding.join(", ")
    );
}
