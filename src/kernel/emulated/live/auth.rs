//! Helpers of live hosts that stand for FreeBSD's randomness and its
//! prepared HMAC state (`carp_hmac_prepare()`, `docs/freebsd-carp.md` §10).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::rc::{Rc, Weak};

use zeroize::Zeroize;

use carpctl_sys as sys;

use crate::wire::{self, CarpAuth};

/// splitmix64 (Steele, Lea, Flood 2014): a small, fast, deterministic
/// generator; here it stands for `arc4random()`, which only needs to be
/// unpredictable on a real host.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

// ---------------------------------------------------------------------------
// Prepared HMAC states
// ---------------------------------------------------------------------------

/// A prepared HMAC state (`carp_hmac_prepare()`) that remembers its last
/// digest. Its `Debug` shows the vhid only.
pub(crate) struct SharedAuth {
    auth: CarpAuth,
    last: Cell<Option<(u64, [u8; 20])>>,
}

impl fmt::Debug for SharedAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedAuth")
            .field("vhid", &self.auth.vhid())
            .finish_non_exhaustive()
    }
}

impl SharedAuth {
    fn new(auth: CarpAuth) -> Self {
        SharedAuth {
            auth,
            last: Cell::new(None),
        }
    }

    /// `carp_hmac_generate()` for `counter`.
    pub(crate) fn digest(&self, counter: u64) -> [u8; 20] {
        if let Some((c, md)) = self.last.get()
            && c == counter
        {
            return md;
        }
        let md = self.auth.digest(counter);
        self.last.set(Some((counter, md)));
        md
    }
}

/// What a prepared state depends on: the 20 key bytes, the vhid and the
/// address list in hash order. The key is zeroed when the entry goes.
#[derive(Clone, PartialEq, Eq, Hash)]
struct AuthKey {
    key: [u8; sys::CARP_KEY_LEN],
    vhid: u8,
    v4: Vec<Ipv4Addr>,
    v6: Vec<Ipv6Addr>,
}

// Not a `Zeroizing` field: AuthKey is a hash key (interning), and
// `Zeroizing` does not implement `Hash`.
impl Drop for AuthKey {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

/// Interned prepared HMAC states, shared by the hosts of one simulation.
#[derive(Default)]
pub struct AuthPool {
    map: RefCell<HashMap<AuthKey, Weak<SharedAuth>>>,
}

impl fmt::Debug for AuthPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthPool")
            .field("entries", &self.map.borrow().len())
            .finish()
    }
}

impl AuthPool {
    pub fn new() -> Self {
        Self::default()
    }

    pub(super) fn get(
        &self,
        key: &[u8; sys::CARP_KEY_LEN],
        vhid: u8,
        addrs: &[IpAddr],
    ) -> Rc<SharedAuth> {
        let (v4, v6) = wire::carp::hash_order(addrs);
        let k = AuthKey {
            key: *key,
            vhid,
            v4,
            v6,
        };
        let mut map = self.map.borrow_mut();
        if let Some(rc) = map.get(&k).and_then(Weak::upgrade) {
            return rc;
        }
        let rc = Rc::new(SharedAuth::new(prepare(key, vhid, addrs)));
        if map.len() >= 4096 {
            map.retain(|_, w| w.strong_count() > 0);
        }
        map.insert(k, Rc::downgrade(&rc));
        rc
    }
}

/// `carp_hmac_prepare()`: the key is the 20 stored bytes (NUL padded;
/// HMAC zero-pads a short key the same way, so the NULs change nothing).
fn prepare(key: &[u8; sys::CARP_KEY_LEN], vhid: u8, addrs: &[IpAddr]) -> CarpAuth {
    match CarpAuth::new(key, vhid, addrs) {
        Ok(a) => a,
        // 20 bytes is within CARP_KEY_LEN; CarpAuth::new cannot refuse it.
        Err(_) => unreachable!("a 20-byte key is a valid HMAC key"),
    }
}
