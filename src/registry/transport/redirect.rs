//! The redirect policy, as a pure function: given a request and the answer's
//! status and `Location`, follow it (where, with which method, keeping the
//! body or not) or refuse it, saying why. `send` follows redirects itself
//! (reqwest's own policy is off) so that every hop re-decides its
//! credential for the URL it goes to.
//!
//! The rules: within one origin (scheme, host and port) a redirect is
//! followed as browsers and reqwest do; `https` never goes to `http`; to
//! another origin only a GET or HEAD with no body and no one-time password
//! is followed, and it carries only the credential configured for that
//! origin (none, usually). A request with a body (a password, a token
//! request) is never sent to an origin the user did not name.

use reqwest::Method;
use url::Url;

/// The most redirects one request follows.
pub(crate) const MAX_REDIRECTS: u32 = 5;

/// The request being redirected, as far as the policy cares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Redirected<'a> {
    pub url: &'a Url,
    pub method: &'a Method,
    pub has_body: bool,
    pub has_otp: bool,
}

/// What to do with an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Redirect {
    /// Not a redirect (or one without a `Location`): the answer stands.
    No,
    Follow(Hop),
    Refuse {
        to: Option<Url>,
        why: Refused,
    },
}

/// The next request of a followed redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hop {
    pub url: Url,
    pub method: Method,
    /// 307/308 repeat the body; 301/302/303 turn the request into a GET
    /// without one.
    pub keep_body: bool,
    /// Same scheme, host and port: the request keeps its credential and
    /// one-time password. Otherwise both are decided again for `url`.
    pub same_origin: bool,
}

/// Why a redirect is not followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// `Location` is not a URL.
    NotAUrl,
    /// `Location` is not an http(s) URL.
    NotHttp,
    /// From `https` to plain `http`.
    Downgrade,
    /// To another origin, with a body, a one-time password, or a method
    /// that changes something.
    CrossOrigin,
}

/// What to do with an answer of `status` carrying `location`, to `request`.
pub(crate) fn decide(request: Redirected<'_>, status: u16, location: Option<&str>) -> Redirect {
    let rewrites_to_get = match status {
        301..=303 => true,
        307 | 308 => false,
        _ => return Redirect::No,
    };
    let Some(location) = location else {
        return Redirect::No;
    };
    let Ok(mut to) = request.url.join(location.trim()) else {
        return Redirect::Refuse {
            to: None,
            why: Refused::NotAUrl,
        };
    };
    // Credentials in a `Location` are the redirecting server's idea; rtok
    // sends only its own.
    let _ = to.set_username("");
    let _ = to.set_password(None);
    let refuse = |to: Url, why| Redirect::Refuse { to: Some(to), why };
    if !matches!(to.scheme(), "http" | "https") {
        return refuse(to, Refused::NotHttp);
    }
    if request.url.scheme() == "https" && to.scheme() == "http" {
        return refuse(to, Refused::Downgrade);
    }
    let same_origin = request.url.origin() == to.origin();
    let harmless = matches!(*request.method, Method::GET | Method::HEAD)
        && !request.has_body
        && !request.has_otp;
    if !same_origin && !harmless {
        return refuse(to, Refused::CrossOrigin);
    }
    let (method, keep_body) = if rewrites_to_get {
        let method = match *request.method {
            Method::HEAD => Method::HEAD,
            _ => Method::GET,
        };
        (method, false)
    } else {
        (request.method.clone(), request.has_body)
    };
    Redirect::Follow(Hop {
        url: to,
        method,
        keep_body,
        same_origin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("url")
    }

    fn ask(from: &str, method: Method, body: bool, otp: bool, status: u16, to: &str) -> Redirect {
        let from = url(from);
        decide(
            Redirected {
                url: &from,
                method: &method,
                has_body: body,
                has_otp: otp,
            },
            status,
            Some(to),
        )
    }

    fn refused(redirect: &Redirect) -> Option<Refused> {
        match redirect {
            Redirect::Refuse { why, .. } => Some(*why),
            _ => None,
        }
    }

    #[test]
    fn only_redirect_statuses_with_a_location_redirect() {
        let from = url("https://r.example/-/whoami");
        let get = Redirected {
            url: &from,
            method: &Method::GET,
            has_body: false,
            has_otp: false,
        };
        assert_eq!(decide(get, 200, Some("/x")), Redirect::No);
        assert_eq!(decide(get, 304, Some("/x")), Redirect::No);
        assert_eq!(decide(get, 302, None), Redirect::No);
    }

    #[test]
    fn within_one_origin_redirects_are_followed_as_browsers_do() {
        let base = "https://r.example/-/npm/v1/tokens";
        let Redirect::Follow(hop) = ask(base, Method::POST, true, true, 307, "/moved") else {
            panic!("a same-origin 307 is followed");
        };
        assert_eq!(hop.url.as_str(), "https://r.example/moved");
        assert_eq!(
            (hop.method, hop.keep_body, hop.same_origin),
            (Method::POST, true, true)
        );
        let Redirect::Follow(hop) = ask(base, Method::POST, true, false, 303, "/done") else {
            panic!("a same-origin 303 is followed");
        };
        assert_eq!((hop.method, hop.keep_body), (Method::GET, false));
        let Redirect::Follow(hop) = ask(base, Method::HEAD, false, false, 301, "/x") else {
            panic!("a HEAD stays a HEAD");
        };
        assert_eq!(hop.method, Method::HEAD);
    }

    #[test]
    fn a_body_or_a_one_time_password_never_goes_to_another_origin() {
        let base = "http://127.0.0.1:1000/-/npm/v1/tokens";
        let other = "http://127.0.0.1:2000/-/npm/v1/tokens";
        for status in [301, 302, 303, 307, 308] {
            let with_body = ask(base, Method::POST, true, false, status, other);
            assert_eq!(refused(&with_body), Some(Refused::CrossOrigin), "{status}");
            let put = ask(base, Method::PUT, true, false, status, other);
            assert_eq!(refused(&put), Some(Refused::CrossOrigin), "{status}");
            let otp = ask(base, Method::GET, false, true, status, other);
            assert_eq!(refused(&otp), Some(Refused::CrossOrigin), "{status}");
            let delete = ask(base, Method::DELETE, false, false, status, other);
            assert_eq!(refused(&delete), Some(Refused::CrossOrigin), "{status}");
        }
        // Another scheme on the same host and port is another origin too
        // (reqwest's own check compares only host and port).
        let upgraded = ask(
            "http://r.example:443/x",
            Method::POST,
            true,
            false,
            307,
            "https://r.example:443/x",
        );
        assert_eq!(refused(&upgraded), Some(Refused::CrossOrigin));
    }

    #[test]
    fn a_plain_get_may_go_elsewhere_as_a_new_request() {
        let Redirect::Follow(hop) = ask(
            "https://r.example/-/whoami",
            Method::GET,
            false,
            false,
            302,
            "https://user:pass@cdn.example/-/whoami",
        ) else {
            panic!("a body-less GET is followed");
        };
        assert!(!hop.same_origin);
        assert_eq!(hop.url.as_str(), "https://cdn.example/-/whoami");
    }

    #[test]
    fn https_never_goes_to_http_and_odd_locations_are_refused() {
        let https = "https://r.example/-/whoami";
        for to in ["http://r.example/-/whoami", "http://other.example/"] {
            let got = ask(https, Method::GET, false, false, 302, to);
            assert_eq!(refused(&got), Some(Refused::Downgrade), "{to}");
        }
        let file = ask(https, Method::GET, false, false, 302, "file:///etc/passwd");
        assert_eq!(refused(&file), Some(Refused::NotHttp));
        let bad = ask(https, Method::GET, false, false, 302, "http://[::1");
        assert_eq!(refused(&bad), Some(Refused::NotAUrl));
    }
}
