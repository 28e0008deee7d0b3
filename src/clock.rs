//! The wall clock, in unix seconds: read where time is needed and injected where it decides
//! something, so tests control time.

/// Unix seconds; injected so tests control time.
pub type Clock = dyn Fn() -> u64;

/// Now, in unix seconds; 0 on a clock set before 1970.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
