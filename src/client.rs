//! The package managers rtok keeps credentials for, by name. Which file
//! each one reads is `config/`'s knowledge (`config::clients`); this leaf
//! only names them, so the command line, rtok's settings and the reports
//! spell them one way.

use std::fmt;

/// A package manager with its own user credential file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Client {
    /// npm's user `.npmrc` (also read by pnpm 10, yarn 1, bun and deno).
    Npm,
    /// pnpm 11 and 12's `auth.ini`.
    Pnpm,
    /// yarn berry's home `.yarnrc.yml`.
    Yarn,
}

impl Client {
    pub const ALL: [Client; 3] = [Client::Npm, Client::Pnpm, Client::Yarn];

    pub fn name(self) -> &'static str {
        match self {
            Client::Npm => "npm",
            Client::Pnpm => "pnpm",
            Client::Yarn => "yarn",
        }
    }

    pub fn parse(name: &str) -> Option<Client> {
        Client::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for Client {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_parses_back_from_its_name() {
        for client in Client::ALL {
            assert_eq!(Client::parse(client.name()), Some(client));
        }
        assert_eq!(Client::parse("bun"), None);
        assert_eq!(Client::parse("NPM"), None);
    }
}
