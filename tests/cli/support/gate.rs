//! `Gate`: holds requests in a mock's handler until a given number are in
//! flight at once, so a test can prove a client's concurrency instead of
//! inferring it from sleeps.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long a full wave waits for a request beyond its width.
const GRACE: Duration = Duration::from_millis(150);

/// Lets requests through in waves of `width`: each request waits until
/// `width` of them wait together (or, for the last wave, until every one of
/// the `total` expected has arrived), then the whole wave goes. Before a
/// full wave goes it is held a moment longer (`GRACE`), so that a client
/// that sends more than `width` at once shows up in `widest`. A wave that
/// never fills is let go after `patience`, and counted as a shortfall.
pub struct Gate {
    width: usize,
    total: usize,
    patience: Duration,
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    waiting: usize,
    arrived: usize,
    wave: u64,
    widest: usize,
    shortfalls: usize,
}

impl Gate {
    pub fn new(width: usize, total: usize, patience: Duration) -> Gate {
        Gate {
            width,
            total,
            patience,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        }
    }

    /// Called by each request: returns once its wave may go.
    pub fn pass(&self) {
        let mut state = self.state.lock().expect("gate lock");
        state.arrived += 1;
        state.waiting += 1;
        state.widest = state.widest.max(state.waiting);
        let my_wave = state.wave;
        if state.waiting >= self.width || state.arrived >= self.total {
            // None of the held requests can finish, so a client within its
            // limit sends nothing more now; one over it would.
            drop(state);
            std::thread::sleep(GRACE);
            let mut state = self.state.lock().expect("gate lock");
            if state.wave == my_wave {
                state.waiting = 0;
                state.wave += 1;
                self.changed.notify_all();
            }
            return;
        }
        let deadline = Instant::now() + self.patience;
        while state.wave == my_wave {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                state.shortfalls += 1;
                state.waiting = 0;
                state.wave += 1;
                self.changed.notify_all();
                return;
            }
            state = self.changed.wait_timeout(state, left).expect("gate lock").0;
        }
    }

    /// The most requests that were held at once.
    pub fn widest(&self) -> usize {
        self.state.lock().expect("gate lock").widest
    }

    /// How many waves had to be let go before they filled.
    pub fn shortfalls(&self) -> usize {
        self.state.lock().expect("gate lock").shortfalls
    }
}
