//! Following the pages of a list (`--paginate`) to an end, whatever the server answers: a page that is
//! empty or reaches `totalCount` ends it; a page that repeats an earlier one or brings no item not seen
//! before, or more than [`MAX_PAGES`] pages or [`MAX_BYTES`] bytes in all, stop it with the reason.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::Value;

/// The most pages followed: 100,000 items at sipgate's page size of 100.
pub const MAX_PAGES: usize = 1000;

/// The most bytes of pages read in all.
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// What to do after a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Ask for the next page.
    Next,
    /// The list is complete.
    Done,
    /// Stop before the list is complete, for this reason; this page's items count.
    Stop(String),
    /// Stop before the list is complete, for this reason; this page's items are dropped (seen before).
    Drop(String),
}

/// The pages seen so far: hashes of each page and each item, the count of pages and bytes.
#[derive(Debug, Default)]
pub struct Pages {
    pages: HashSet<u64>,
    items: HashSet<u64>,
    count: usize,
    bytes: u64,
    offset: u64,
}

impl Pages {
    /// Pages of a list read from `offset` on.
    pub fn new(offset: u64) -> Pages {
        Pages { offset, ..Pages::default() }
    }

    /// Where the next page starts.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Takes one page (`bytes` long) with `items` of a list of `total` items; says whether to go on.
    pub fn add(&mut self, bytes: usize, items: &[Value], total: u64) -> Step {
        self.count += 1;
        self.bytes = self.bytes.saturating_add(bytes as u64);
        let at = self.offset;
        if items.is_empty() {
            return Step::Done;
        }
        let hashes: Vec<u64> = items.iter().map(hash).collect();
        if !self.pages.insert(hash_all(&hashes)) {
            return Step::Drop(format!("the page at offset {at} repeats an earlier page"));
        }
        let new = hashes.iter().filter(|&&item| self.items.insert(item)).count();
        if new == 0 {
            return Step::Drop(format!("the page at offset {at} brings no item that was not there before"));
        }
        self.offset = self.offset.saturating_add(items.len() as u64);
        if self.offset >= total {
            return Step::Done;
        }
        let go_on = format!("the rest starts at offset={}", self.offset);
        if self.count >= MAX_PAGES {
            return Step::Stop(format!("that is {MAX_PAGES} pages, the most --paginate follows; {go_on}"));
        }
        if self.bytes >= MAX_BYTES {
            return Step::Stop(format!("that is {} MiB, the most --paginate reads; {go_on}", MAX_BYTES >> 20));
        }
        Step::Next
    }
}

/// A hash of `item` as JSON text (the same item is the same text within one run).
fn hash(item: &Value) -> u64 {
    hash_all(&item.to_string())
}

fn hash_all(value: &(impl Hash + ?Sized)) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_list_ends_at_its_total_or_an_empty_page() {
        let mut pages = Pages::new(0);
        assert_eq!(pages.add(10, &[json!(1), json!(2)], 3), Step::Next);
        assert_eq!(pages.offset(), 2);
        assert_eq!(pages.add(10, &[json!(3)], 3), Step::Done);
        assert_eq!(Pages::new(0).add(10, &[], 99), Step::Done);
    }

    #[test]
    fn pages_that_do_not_advance_stop_it() {
        let mut pages = Pages::new(0);
        assert_eq!(pages.add(10, &[json!(1), json!(2)], 100), Step::Next);
        assert!(matches!(pages.add(10, &[json!(1), json!(2)], 100), Step::Drop(r) if r.contains("repeats")));
        let mut pages = Pages::new(0);
        assert_eq!(pages.add(10, &[json!(1), json!(2)], 100), Step::Next);
        assert!(matches!(pages.add(10, &[json!(2), json!(1)], 100), Step::Drop(r) if r.contains("no item")));
    }

    #[test]
    fn the_page_and_byte_caps_stop_it_and_say_where_the_rest_starts() {
        let mut pages = Pages::new(0);
        for n in 0..MAX_PAGES - 1 {
            assert_eq!(pages.add(1, &[json!(n)], u64::MAX), Step::Next);
        }
        let stopped = pages.add(1, &[json!("last")], u64::MAX);
        assert!(
            matches!(&stopped, Step::Stop(r) if r.contains("1000 pages") && r.contains("offset=1000")),
            "{stopped:?}"
        );
        let mut pages = Pages::new(5);
        assert!(matches!(pages.add(MAX_BYTES as usize, &[json!(1)], 99), Step::Stop(r) if r.contains("64 MiB")));
    }
}
