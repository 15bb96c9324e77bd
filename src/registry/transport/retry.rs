//! The retry policy, as a pure function: given the attempt number and what
//! happened, retry (after how long) or give up. npm's `fetch-retries`,
//! `fetch-retry-factor`, `fetch-retry-mintimeout` and
//! `fetch-retry-maxtimeout` are its inputs.

use std::time::Duration;

use crate::config::network::Retry as Policy;

/// What one attempt came to, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Outcome {
    /// The registry answered with this status; `retry_after` is its
    /// `Retry-After` header in seconds, if it sent one.
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// The answer started but the connection broke while the body was read.
    BrokenBody,
    /// The answer is larger than rtok reads: it will be again.
    TooLarge,
    /// No answer. `connected` is false when the connection was never made
    /// (so the server cannot have acted); `transient` when the failure may
    /// go away on its own (refused, reset), false for a bad certificate, an
    /// unknown host or a timeout that already took `fetch-timeout`.
    Transport { connected: bool, transient: bool },
}

/// Retry after `wait`, saying why; or stop and report the outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Decision {
    Retry {
        wait: Duration,
        reason: &'static str,
    },
    GiveUp,
}

/// Whether attempt number `attempt` (1 for the first) of a request should be
/// followed by another. `idempotent` requests (GET, DELETE, HEAD) can be
/// repeated safely; others only when they never reached the server.
/// `jitter` in [0, 1) spreads the waits of clients that failed together.
pub(crate) fn decide(
    policy: &Policy,
    attempt: u32,
    idempotent: bool,
    outcome: &Outcome,
    jitter: f64,
) -> Decision {
    if attempt > policy.retries {
        return Decision::GiveUp;
    }
    let (allowed, reason, retry_after) = match *outcome {
        Outcome::Status {
            status,
            retry_after,
        } => {
            // A 429 says the registry did not act on the request, so even
            // a POST may go again (after its `Retry-After`).
            let retryable = status == 429 || (500..=599).contains(&status);
            (
                retryable && (idempotent || status == 429),
                status_reason(status),
                retry_after,
            )
        }
        Outcome::BrokenBody => (
            idempotent,
            "the connection broke while reading the response",
            None,
        ),
        Outcome::TooLarge => (false, "", None),
        Outcome::Transport {
            connected,
            transient,
        } => (
            transient && (idempotent || !connected),
            if connected {
                "the connection failed"
            } else {
                "could not connect"
            },
            None,
        ),
    };
    if !allowed {
        return Decision::GiveUp;
    }
    Decision::Retry {
        wait: backoff(policy, attempt, retry_after, jitter),
        reason,
    }
}

/// npm's backoff (`fetch-retry-mintimeout` × `fetch-retry-factor`^(n-1),
/// capped at `fetch-retry-maxtimeout`), between half and all of it by
/// `jitter`; or the registry's `Retry-After`, honoured but never longer than
/// `fetch-retry-maxtimeout` (a registry cannot park a command for an hour).
fn backoff(policy: &Policy, attempt: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
    if let Some(wait) = retry_after {
        return wait.min(policy.max);
    }
    let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
    let base = policy.min.as_secs_f64() * policy.factor.max(1.0).powi(exponent);
    let capped = base.min(policy.max.as_secs_f64().max(policy.min.as_secs_f64()));
    Duration::from_secs_f64(capped * (0.5 + 0.5 * jitter.clamp(0.0, 1.0)))
}

fn status_reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("server error")
}

/// A number in [0, 1) that differs between runs and calls; jitter needs no
/// more than that.
pub(crate) fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(std::time::Instant::now().elapsed().as_nanos());
    (hasher.finish() % 10_000) as f64 / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(retries: u32) -> Policy {
        Policy {
            retries,
            factor: 10.0,
            min: Duration::from_millis(1_000),
            max: Duration::from_millis(10_000),
        }
    }

    fn status(code: u16) -> Outcome {
        Outcome::Status {
            status: code,
            retry_after: None,
        }
    }

    fn wait(decision: Decision) -> Duration {
        match decision {
            Decision::Retry { wait, .. } => wait,
            Decision::GiveUp => panic!("expected a retry"),
        }
    }

    #[test]
    fn fetch_retries_zero_never_retries() {
        assert_eq!(
            decide(&policy(0), 1, true, &status(503), 0.0),
            Decision::GiveUp
        );
    }

    #[test]
    fn gives_up_after_fetch_retries_retries() {
        let p = policy(2);
        assert!(matches!(
            decide(&p, 1, true, &status(503), 0.0),
            Decision::Retry { .. }
        ));
        assert!(matches!(
            decide(&p, 2, true, &status(503), 0.0),
            Decision::Retry { .. }
        ));
        assert_eq!(decide(&p, 3, true, &status(503), 0.0), Decision::GiveUp);
    }

    #[test]
    fn waits_grow_by_the_factor_from_the_minimum_up_to_the_maximum() {
        let p = Policy {
            retries: 5,
            factor: 3.0,
            min: Duration::from_millis(100),
            max: Duration::from_millis(1_000),
        };
        // jitter 1.0 is the whole delay; 0.0 is half of it.
        assert_eq!(
            wait(decide(&p, 1, true, &status(500), 1.0)),
            Duration::from_millis(100)
        );
        assert_eq!(
            wait(decide(&p, 2, true, &status(500), 1.0)),
            Duration::from_millis(300)
        );
        assert_eq!(
            wait(decide(&p, 3, true, &status(500), 1.0)),
            Duration::from_millis(900)
        );
        assert_eq!(
            wait(decide(&p, 4, true, &status(500), 1.0)),
            Duration::from_millis(1_000)
        );
        assert_eq!(
            wait(decide(&p, 1, true, &status(500), 0.0)),
            Duration::from_millis(50)
        );
    }

    #[test]
    fn a_factor_below_one_does_not_shrink_waits() {
        let p = Policy {
            factor: 0.5,
            ..policy(3)
        };
        assert_eq!(
            wait(decide(&p, 3, true, &status(500), 1.0)),
            Duration::from_millis(1_000)
        );
    }

    #[test]
    fn a_maximum_below_the_minimum_waits_the_minimum() {
        let p = Policy {
            min: Duration::from_millis(500),
            max: Duration::from_millis(100),
            ..policy(3)
        };
        assert_eq!(
            wait(decide(&p, 2, true, &status(500), 1.0)),
            Duration::from_millis(500)
        );
    }

    #[test]
    fn retry_after_is_honoured_and_capped_at_the_maximum() {
        let p = policy(2);
        let soon = Outcome::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            wait(decide(&p, 1, true, &soon, 0.0)),
            Duration::from_secs(3)
        );
        let late = Outcome::Status {
            status: 503,
            retry_after: Some(Duration::from_secs(3600)),
        };
        assert_eq!(
            wait(decide(&p, 1, true, &late, 0.0)),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn only_429_and_5xx_statuses_are_retried() {
        let p = policy(2);
        for code in [429, 500, 502, 503, 504, 599] {
            assert!(
                matches!(
                    decide(&p, 1, true, &status(code), 0.5),
                    Decision::Retry { .. }
                ),
                "{code}"
            );
        }
        for code in [200, 301, 400, 401, 403, 404, 409, 422] {
            assert_eq!(
                decide(&p, 1, true, &status(code), 0.5),
                Decision::GiveUp,
                "{code}"
            );
        }
    }

    #[test]
    fn a_post_is_never_resent_once_it_may_have_arrived() {
        let p = policy(2);
        assert_eq!(decide(&p, 1, false, &status(503), 0.5), Decision::GiveUp);
        assert_eq!(
            decide(&p, 1, false, &Outcome::BrokenBody, 0.5),
            Decision::GiveUp
        );
        let reset = Outcome::Transport {
            connected: true,
            transient: true,
        };
        assert_eq!(decide(&p, 1, false, &reset, 0.5), Decision::GiveUp);
        // A 429: the registry says it did not act, so it may go again.
        assert!(matches!(
            decide(&p, 1, false, &status(429), 0.5),
            Decision::Retry { .. }
        ));
        // Never connected: the server cannot have acted, so it may go again.
        let refused = Outcome::Transport {
            connected: false,
            transient: true,
        };
        assert!(matches!(
            decide(&p, 1, false, &refused, 0.5),
            Decision::Retry {
                reason: "could not connect",
                ..
            }
        ));
    }

    #[test]
    fn lasting_failures_are_not_retried() {
        let p = policy(2);
        let bad_certificate = Outcome::Transport {
            connected: false,
            transient: false,
        };
        assert_eq!(decide(&p, 1, true, &bad_certificate, 0.5), Decision::GiveUp);
        assert_eq!(
            decide(&p, 1, true, &Outcome::TooLarge, 0.5),
            Decision::GiveUp
        );
    }

    #[test]
    fn broken_bodies_and_resets_of_safe_requests_are_retried() {
        let p = policy(1);
        assert!(matches!(
            decide(&p, 1, true, &Outcome::BrokenBody, 0.5),
            Decision::Retry { .. }
        ));
        let reset = Outcome::Transport {
            connected: true,
            transient: true,
        };
        assert!(matches!(
            decide(&p, 1, true, &reset, 0.5),
            Decision::Retry {
                reason: "the connection failed",
                ..
            }
        ));
    }
}
