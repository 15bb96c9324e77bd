//! IPv4 CIDR validation for `token create --cidr`, as npm checks it.

/// Splits the `--cidr` values as npm does (a single value may hold a
/// comma-separated list) and checks each is an IPv4 CIDR; the error names
/// the bad entry.
pub(crate) fn parse_list(values: &[String]) -> Result<Vec<String>, String> {
    let mut list = Vec::new();
    for value in values {
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if is_ipv6_cidr(entry) {
                return Err(format!(
                    "CIDR whitelist can only contain IPv4 addresses, `{entry}` is IPv6"
                ));
            }
            if !is_ipv4_cidr(entry) {
                return Err(format!(
                    "CIDR whitelist contains an invalid CIDR entry: `{entry}`"
                ));
            }
            list.push(entry.to_string());
        }
    }
    Ok(list)
}

/// `a.b.c.d/n`: four decimal octets 0-255 without leading zeros, and a
/// prefix length 0-32 (the `is-cidr` rule npm uses).
pub(crate) fn is_ipv4_cidr(text: &str) -> bool {
    let Some((address, prefix)) = text.split_once('/') else {
        return false;
    };
    let octets: Vec<&str> = address.split('.').collect();
    octets.len() == 4
        && octets.iter().all(|o| decimal_at_most(o, 255))
        && decimal_at_most(prefix, 32)
}

fn is_ipv6_cidr(text: &str) -> bool {
    match text.split_once('/') {
        Some((address, prefix)) => {
            address.parse::<std::net::Ipv6Addr>().is_ok() && decimal_at_most(prefix, 128)
        }
        None => false,
    }
}

fn decimal_at_most(text: &str, max: u32) -> bool {
    !text.is_empty()
        && text.len() <= 3
        && text.bytes().all(|b| b.is_ascii_digit())
        && !(text.len() > 1 && text.starts_with('0'))
        && text.parse::<u32>().is_ok_and(|n| n <= max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ipv4_cidrs() {
        for ok in [
            "10.0.0.0/8",
            "192.168.1.1/32",
            "0.0.0.0/0",
            "255.255.255.255/24",
        ] {
            assert!(is_ipv4_cidr(ok), "{ok}");
        }
        for bad in [
            "10.0.0.0",
            "10.0.0/8",
            "10.0.0.256/8",
            "10.0.0.1/33",
            "010.0.0.1/8",
            "a.b.c.d/8",
            "10.0.0.1/",
            "/8",
        ] {
            assert!(!is_ipv4_cidr(bad), "{bad}");
        }
    }

    #[test]
    fn lists_split_on_commas_and_repeat() {
        assert_eq!(
            parse_list(&["10.0.0.0/8, 192.168.0.0/16".into(), "1.2.3.4/32".into()]),
            Ok(vec![
                "10.0.0.0/8".into(),
                "192.168.0.0/16".into(),
                "1.2.3.4/32".into()
            ])
        );
    }

    #[test]
    fn errors_name_the_entry() {
        let err = parse_list(&["::1/128".into()]).unwrap_err();
        assert!(err.contains("IPv6") && err.contains("::1/128"), "{err}");
        let err = parse_list(&["10.0.0.0/8,nonsense".into()]).unwrap_err();
        assert!(err.contains("`nonsense`"), "{err}");
    }
}
