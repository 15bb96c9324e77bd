//! Stand-ins for the cloud CLIs that rtok's providers run (`aws`, `gcloud`,
//! `az`, `gh`): `sh` scripts in a folder of the test's own, put first on
//! `PATH`, that record each run's arguments and print what the real tool
//! prints (the JSON and text shapes of `shared/docs/clients-2026.md`), with
//! a token the test chooses. Each run prints the next of the outputs the
//! test queued (the last one again once they run out), so a test can hand
//! out a new token on the second run.
//!
//! ```text
//! let tools = FakeTools::new(&env);
//! tools.gh("gho_first");                       // what `gh auth token` prints
//! let run = tools.apply(env.rtok().arg("whoami")).run();
//! assert_eq!(tools.calls("gh"), ["auth token"]);
//! ```

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::env::{RtokCmd, TestEnv};
use super::verdaccio::iso8601;

pub struct FakeTools {
    /// The folder put first on `PATH`.
    pub bin: PathBuf,
}

impl FakeTools {
    pub fn new(env: &TestEnv) -> FakeTools {
        let bin = env.root.join("fake-tools");
        std::fs::create_dir_all(&bin).expect("create fake-tools/");
        FakeTools { bin }
    }

    /// `cmd` with the fake tools first on `PATH`.
    pub fn apply(&self, cmd: RtokCmd) -> RtokCmd {
        let mut path = OsString::from(&self.bin);
        if let Some(rest) = std::env::var_os("PATH") {
            path.push(":");
            path.push(rest);
        }
        cmd.env("PATH", path)
    }

    /// Installs `name` as a script that records its arguments, then prints
    /// its next queued stdout (and stderr), and exits with its code.
    pub fn install(&self, name: &str) {
        let script = format!(
            r#"#!/bin/sh
dir='{dir}'
printf '%s\n' "$*" >> "$dir/{name}.calls"
n=$(wc -l < "$dir/{name}.calls" | tr -d ' ')
i=$n
while [ "$i" -gt 0 ] && [ ! -f "$dir/{name}.out.$i" ]; do i=$((i - 1)); done
[ -f "$dir/{name}.err.$i" ] && cat "$dir/{name}.err.$i" >&2
[ -f "$dir/{name}.sleep.$i" ] && sleep "$(cat "$dir/{name}.sleep.$i")"
cat "$dir/{name}.out.$i"
exit "$(cat "$dir/{name}.code.$i" 2>/dev/null || echo 0)"
"#,
            dir = self.bin.display()
        );
        let path = self.bin.join(name);
        std::fs::write(&path, script).expect("write fake tool");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    /// Queues what run number `n` (1-based; later runs repeat the last one
    /// queued) prints and how it exits.
    pub fn queue(&self, name: &str, n: usize, stdout: &str, stderr: &str, code: i32) {
        if !self.bin.join(name).exists() {
            self.install(name);
        }
        let file = |what: &str| self.bin.join(format!("{name}.{what}.{n}"));
        std::fs::write(file("out"), stdout).expect("write out");
        std::fs::write(file("err"), stderr).expect("write err");
        std::fs::write(file("code"), code.to_string()).expect("write code");
    }

    /// Makes run `n` of `name` sleep this many seconds first.
    pub fn hang(&self, name: &str, n: usize, seconds: u32) {
        std::fs::write(
            self.bin.join(format!("{name}.sleep.{n}")),
            seconds.to_string(),
        )
        .expect("write sleep");
    }

    /// The arguments of each run of `name`, joined by spaces.
    pub fn calls(&self, name: &str) -> Vec<String> {
        std::fs::read_to_string(self.bin.join(format!("{name}.calls")))
            .map(|text| text.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// `aws codeartifact get-authorization-token --output json`, as AWS
    /// CLI v2 prints it: `expiration` with an offset.
    pub fn aws(&self, n: usize, token: &str, expires_in: Duration) {
        let at = iso8601(SystemTime::now() + expires_in);
        let out = format!(
            "{{\n    \"authorizationToken\": \"{token}\",\n    \"expiration\": \"{}+00:00\"\n}}\n",
            &at[..19]
        );
        self.queue("aws", n, &out, "", 0);
    }

    /// `gcloud auth print-access-token`: the token on a line.
    pub fn gcloud(&self, n: usize, token: &str) {
        self.queue("gcloud", n, &format!("{token}\n"), "", 0);
    }

    /// `az account get-access-token --output json` (az 2.54 and later).
    pub fn az(&self, n: usize, token: &str, expires_in: Duration) {
        let at = SystemTime::now() + expires_in;
        let secs = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        let out = format!(
            "{{\n  \"accessToken\": \"{token}\",\n  \"expiresOn\": \"2030-01-01 00:00:00.000000\",\n  \"expires_on\": {secs},\n  \"subscription\": \"00000000-0000-0000-0000-000000000000\",\n  \"tenant\": \"11111111-1111-1111-1111-111111111111\",\n  \"tokenType\": \"Bearer\"\n}}\n"
        );
        self.queue("az", n, &out, "", 0);
    }

    /// `gh auth token`: the token on a line.
    pub fn gh(&self, n: usize, token: &str) {
        self.queue("gh", n, &format!("{token}\n"), "", 0);
    }
}
