//! Added tokens (`<|endoftext|>` and the like), found in one pass over the text whatever their number:
//! an Aho–Corasick automaton with leftmost-longest semantics, as the `tokenizers` library matches them
//! (it uses the aho-corasick crate with `MatchKind::LeftmostLongest`; this follows that crate's
//! construction).
//!
//! Leftmost-longest: of all occurrences, the one that starts first; of those, the longest. The
//! automaton is the trie of the tokens with failure links, except that a state holding a match (and so
//! every state below it) fails to `DEAD`: once a match has been seen, a mismatch ends the search instead
//! of moving on to a match that starts later. Each state reports one match, the longest token ending
//! there, which is also the one that starts first. A search costs O(bytes scanned); after a match the
//! next search starts at its end, so the bytes between the end of a match and the mismatch that ended
//! its search are read again: O(text + matches × longest token) in all.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasherDefault;

use super::PairHasher;

const ROOT: u32 = 0;
const DEAD: u32 = u32::MAX;

/// The automaton over the added tokens' bytes.
#[derive(Clone, Debug, Default)]
pub(crate) struct AddedTokens {
    /// The root's transitions, dense (most text bytes start nothing): `ROOT` where no token starts.
    root: Vec<u32>,
    /// (state, byte) → state, for every state but the root.
    next: HashMap<(u32, u32), u32, BuildHasherDefault<PairHasher>>,
    /// Per state: its failure state, and the match it reports as (token length in bytes, id).
    fail: Vec<u32>,
    report: Vec<Option<(usize, u32)>>,
}

impl AddedTokens {
    /// Builds the automaton from (content, id) pairs with non-empty contents, in linear time; a content
    /// given twice is refused as `Err((first index, second index))`.
    #[inline(never)] // keeps the construction out of `from_json` (smaller wasm)
    pub(crate) fn new(tokens: &[(String, u32)]) -> Result<AddedTokens, (usize, usize)> {
        let mut a = AddedTokens { root: vec![ROOT; 256], fail: vec![ROOT], report: vec![None], ..Default::default() };
        let mut owner: Vec<usize> = vec![usize::MAX]; // per state: the index of the token ending there
        for (i, (content, id)) in tokens.iter().enumerate() {
            let mut state = ROOT;
            for &b in content.as_bytes() {
                state = match a.goto(state, b) {
                    Some(s) => s,
                    None => {
                        owner.push(usize::MAX);
                        a.add_state(state, b)
                    }
                };
            }
            if a.report[state as usize].is_some() {
                return Err((owner[state as usize], i));
            }
            a.report[state as usize] = Some((content.len(), *id));
            owner[state as usize] = i;
        }
        a.link();
        Ok(a)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.fail.len() == 1
    }

    fn goto(&self, state: u32, b: u8) -> Option<u32> {
        if state == ROOT {
            Some(self.root[usize::from(b)]).filter(|&s| s != ROOT)
        } else {
            self.next.get(&(state, u32::from(b))).copied()
        }
    }

    fn add_state(&mut self, from: u32, b: u8) -> u32 {
        let s = self.fail.len() as u32;
        self.fail.push(ROOT);
        self.report.push(None);
        if from == ROOT {
            self.root[usize::from(b)] = s;
        } else {
            self.next.insert((from, u32::from(b)), s);
        }
        s
    }

    /// The state after reading `b` in `state`, following failure links (the root loops to itself).
    fn step(&self, mut state: u32, b: u8) -> u32 {
        loop {
            if state == DEAD {
                return DEAD;
            }
            if state == ROOT {
                return self.root[usize::from(b)];
            }
            if let Some(s) = self.goto(state, b) {
                return s;
            }
            state = self.fail[state as usize];
        }
    }

    /// Failure links, breadth first. A state with its own match fails to `DEAD` (and so, through the
    /// computation, does every state below it); any other state fails to the longest proper suffix in
    /// the trie and reports that state's match if it has none of its own.
    fn link(&mut self) {
        let mut children: Vec<Vec<(u8, u32)>> = vec![Vec::new(); self.fail.len()];
        for (&(from, b), &to) in &self.next {
            children[from as usize].push((b as u8, to));
        }
        let mut queue = VecDeque::new();
        for b in 0..=255u8 {
            let s = self.root[usize::from(b)];
            if s != ROOT {
                self.fail[s as usize] = if self.report[s as usize].is_some() { DEAD } else { ROOT };
                queue.push_back(s);
            }
        }
        // breadth first: a state's links depend only on shallower states', so the order of siblings
        // (the hash map's) does not change the result
        while let Some(s) = queue.pop_front() {
            for (b, n) in std::mem::take(&mut children[s as usize]) {
                queue.push_back(n);
                if self.report[n as usize].is_some() {
                    self.fail[n as usize] = DEAD;
                    continue;
                }
                let f = self.step(self.fail[s as usize], b);
                self.fail[n as usize] = f;
                if f != DEAD {
                    self.report[n as usize] = self.report[f as usize];
                }
            }
        }
    }

    /// The leftmost-longest added token at or after byte `from` of `hay`: (start, length, id).
    pub(crate) fn find(&self, hay: &[u8], from: usize) -> Option<(usize, usize, u32)> {
        let mut state = ROOT;
        let mut found = None;
        for (at, &b) in hay.iter().enumerate().skip(from) {
            state = self.step(state, b);
            if state == DEAD {
                break;
            }
            if let Some((len, id)) = self.report[state as usize] {
                found = Some((at + 1 - len, len, id));
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, by brute force: the first start with any token, the longest token there.
    fn brute(tokens: &[(String, u32)], hay: &[u8], from: usize) -> Option<(usize, usize, u32)> {
        (from..hay.len()).find_map(|i| {
            tokens.iter().filter(|(c, _)| hay[i..].starts_with(c.as_bytes())).max_by_key(|(c, _)| c.len()).map(|(c, id)| (i, c.len(), *id))
        })
    }

    fn all_matches(find: impl Fn(usize) -> Option<(usize, usize, u32)>) -> Vec<(usize, usize, u32)> {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(m) = find(at) {
            out.push(m);
            at = m.0 + m.1;
        }
        out
    }

    #[test]
    fn leftmost_longest_matches_brute_force_on_small_alphabets() {
        // tokens and texts over {a, b, c}: every overlap, prefix and suffix relation occurs
        let mut seed = 0x2545_f491_u32;
        let mut rand = move |n: u32| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed % n
        };
        for round in 0..3000 {
            let mut tokens: Vec<(String, u32)> = Vec::new();
            for id in 0..1 + rand(6) {
                let len = 1 + rand(5) as usize;
                let t: String = (0..len).map(|_| char::from(b'a' + rand(3) as u8)).collect();
                if !tokens.iter().any(|(c, _)| *c == t) {
                    tokens.push((t, id));
                }
            }
            let text: String = (0..rand(30)).map(|_| char::from(b'a' + rand(3) as u8)).collect();
            let ac = AddedTokens::new(&tokens).expect("distinct contents");
            let want = all_matches(|at| brute(&tokens, text.as_bytes(), at));
            let got = all_matches(|at| ac.find(text.as_bytes(), at));
            assert_eq!(got, want, "round {round}: tokens {tokens:?}, text {text:?}");
        }
    }

    #[test]
    fn the_cases_that_need_the_dead_state() {
        let tokens = |list: &[&str]| list.iter().enumerate().map(|(i, s)| (s.to_string(), i as u32)).collect::<Vec<_>>();
        // "abcd" does not occur, so "bc" (starting later) is the match; "abcd" wins when it occurs
        let t = tokens(&["abcd", "bc"]);
        let ac = AddedTokens::new(&t).expect("distinct contents");
        assert_eq!(ac.find(b"abcx", 0), Some((1, 2, 1)));
        assert_eq!(ac.find(b"abcd", 0), Some((0, 4, 0)));
        // a match is not given up for a later one: "a" at 1 before "b" at 2
        let t = tokens(&["a", "abc", "b", "xabd"]);
        let ac = AddedTokens::new(&t).expect("distinct contents");
        assert_eq!(all_matches(|at| ac.find(b"xabz", at)), vec![(1, 1, 0), (2, 1, 2)]);
        let none = AddedTokens::new(&[]).expect("no tokens");
        assert!(none.is_empty());
        assert_eq!(none.find(b"anything", 0), None);
        assert_eq!(AddedTokens::new(&tokens(&["ab", "b", "ab"])).err(), Some((0, 2)), "a repeated content");
    }
}
