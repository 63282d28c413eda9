//! Event-time windows: `[start, start + window)` with starts at multiples of `every` since the
//! epoch, so every processor replica and the evaluator agree on them without talking.

/// The window geometry of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    pub window_us: i64,
    pub every_us: i64,
}

impl Windows {
    /// Starts of the windows containing `t`, oldest first (one for tumbling windows,
    /// `window / every` for sliding ones).
    pub fn containing(self, t: i64) -> impl Iterator<Item = i64> {
        let last = t.div_euclid(self.every_us) * self.every_us;
        let n = self.window_us / self.every_us;
        (0..n).rev().map(move |k| last - k * self.every_us)
    }

    /// Start of the newest window that ends at or before `watermark`.
    pub fn last_closed_start(self, watermark: i64) -> i64 {
        (watermark - self.window_us).div_euclid(self.every_us) * self.every_us
    }

    /// Whether the window starting at `start` is closed at `watermark`.
    pub fn is_closed(self, start: i64, watermark: i64) -> bool {
        start + self.window_us <= watermark
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tumbling_and_sliding() {
        let tumbling = Windows { window_us: 60, every_us: 60 };
        assert_eq!(tumbling.containing(125).collect::<Vec<_>>(), vec![120]);
        assert_eq!(tumbling.containing(-1).collect::<Vec<_>>(), vec![-60]);
        let sliding = Windows { window_us: 60, every_us: 20 };
        assert_eq!(sliding.containing(125).collect::<Vec<_>>(), vec![80, 100, 120]);
        assert_eq!(sliding.last_closed_start(125), 60);
        assert!(sliding.is_closed(60, 120) && !sliding.is_closed(61, 120));
    }

    proptest! {
        #[test]
        fn a_time_lies_in_exactly_the_windows_listed(t in -1_000_000i64..1_000_000, every in 1i64..50, k in 1i64..6) {
            let w = Windows { window_us: every * k, every_us: every };
            let starts: Vec<i64> = w.containing(t).collect();
            prop_assert_eq!(starts.len() as i64, k);
            for s in &starts {
                prop_assert!(*s <= t && t < s + w.window_us && s.rem_euclid(every) == 0);
            }
            // The window just before the oldest listed one does not contain t.
            prop_assert!(starts[0] - every + w.window_us <= t);
        }
    }
}
