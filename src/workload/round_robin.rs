//! A list handed out in turn to many workers. The lock is held only for an index bump.

use parking_lot::Mutex;

#[derive(Debug)]
pub struct RoundRobin<T> {
    items: Vec<T>,
    /// Items handed out so far, from `starting_at`'s `first`.
    cursor: Mutex<u64>,
}

/// A copy hands out from where the original stands now, on its own cursor.
impl<T: Clone> Clone for RoundRobin<T> {
    fn clone(&self) -> Self {
        Self { items: self.items.clone(), cursor: Mutex::new(*self.cursor.lock()) }
    }
}

impl<T> RoundRobin<T> {
    /// `items` must not be empty; `Config` checks that before a run starts.
    pub fn new(items: Vec<T>) -> Self {
        assert!(!items.is_empty(), "RoundRobin needs at least one item");
        Self { items, cursor: Mutex::new(0) }
    }

    /// The same list, handed out from item `first` (modulo its length) on: shards of one run
    /// start at different places.
    pub fn starting_at(self, first: usize) -> Self {
        *self.cursor.lock() = (first % self.items.len()) as u64;
        self
    }

    /// The next item and its index in the original list.
    pub fn next(&self) -> (usize, &T) {
        let (_, i, item) = self.next_numbered();
        (i, item)
    }

    /// The next item and its index, and how many items were handed out before it (counted
    /// from where the list started: `starting_at`'s `first`).
    pub fn next_numbered(&self) -> (u64, usize, &T) {
        let n = {
            let mut c = self.cursor.lock();
            let n = *c;
            *c += 1;
            n
        };
        let i = (n % self.items.len() as u64) as usize;
        (n, i, &self.items[i])
    }

    /// Item `n` of the hand-out order (as `next_numbered` would give it `n`th), leaving the
    /// cursor where it is: a trace's request k sends prompt k whichever worker takes it.
    pub fn numbered(&self, n: u64) -> (u64, usize, &T) {
        let i = (n % self.items.len() as u64) as usize;
        (n, i, &self.items[i])
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn items(&self) -> &[T] {
        &self.items
    }
}

#[cfg(test)]
mod tests {
    use super::RoundRobin;

    #[test]
    fn hands_out_in_order_and_wraps() {
        let rr = RoundRobin::new(vec!["a", "b", "c"]);
        let got: Vec<usize> = (0..7).map(|_| rr.next().0).collect();
        assert_eq!(got, [0, 1, 2, 0, 1, 2, 0]);
    }

    #[test]
    fn can_start_anywhere() {
        let rr = RoundRobin::new(vec!["a", "b", "c"]).starting_at(5);
        let got: Vec<usize> = (0..4).map(|_| rr.next().0).collect();
        assert_eq!(got, [2, 0, 1, 2]);
    }

    #[test]
    fn shared_across_threads_each_item_equally() {
        let rr = RoundRobin::new(vec![0u8; 4]);
        let mut counts = [0usize; 4];
        std::thread::scope(|s| {
            let hs: Vec<_> =
                (0..8).map(|_| s.spawn(|| (0..100).map(|_| rr.next().0).collect::<Vec<_>>())).collect();
            for h in hs {
                for i in h.join().unwrap() {
                    counts[i] += 1;
                }
            }
        });
        assert_eq!(counts, [200; 4]);
    }
}
