//! The matcher's own Aho-Corasick automaton over dense character numbers (see [`crate::codes`]).
//!
//! Built for what the matcher needs and nothing else: patterns are sequences of numbers
//! `1..=alphabet`, each with one value; the scan steps one state per character and reads every
//! pattern that ends there (overlapping), and number 0 sends it back to the root.
//!
//! Layout: a double array of 16-byte units (`base`, `check` = parent state, `fail`, first
//! output), so one step touches one unit and the unit it lands on (which also holds the first
//! output of the state reached: the scan reads it with the step). States are numbered by their
//! unit; unit 0 is the root, an ordinary state with base 0: its child by number `c` is unit `c`,
//! so a step from the root is the same check as from any other state (no branch on the root),
//! and the root's children, the states most steps start from, are the front units.
//!
//! Build: the patterns are sorted, the trie is laid out breadth-first straight from the sorted
//! list (each node's children are one contiguous run of its patterns, so no map is needed),
//! children are placed first-fit in the double array (shallow states, the hot ones, land at
//! the front), then failure and output links follow breadth-first through the double array.

/// The root state.
pub(crate) const ROOT: u32 = 0;
/// No state / no output / a free unit's parent.
const NONE: u32 = u32::MAX;
/// What [`Steps::step_first`] returns when no pattern ends in the state reached.
pub(crate) const NO_OUTPUT: u32 = NONE;
/// How many free units a state with several children tries as its first child's place (from
/// the first free unit, then back from the end) before it is placed past the end.
const MAX_TRIES: usize = 64;
/// How many units a search walks over in all, free or taken: with `MAX_TRIES` alone, a long
/// run of taken units after the first free one would be walked again by every later state
/// (quadratic build time on a crafted lexicon). Together they keep the build linear.
const MAX_WALK: usize = 256;

#[derive(Clone, Copy)]
struct Unit {
    /// Children of this state are at `base + number` (wrapping).
    base: u32,
    /// The parent state of this unit, `NONE` when free.
    check: u32,
    fail: u32,
    /// First entry of this state's output chain, `NONE` when nothing ends here.
    out: u32,
}

const FREE: Unit = Unit { base: 0, check: NONE, fail: ROOT, out: NONE };

#[derive(Clone, Copy)]
struct Output {
    value: u32,
    /// Next output of the chain (the patterns ending here that are suffixes of this one).
    next: u32,
}

/// An Aho-Corasick automaton with overlapping matches.
pub(crate) struct Automaton {
    units: Vec<Unit>,
    outputs: Vec<Output>,
    /// Units the placement searches walked over while building (a measure of build work that
    /// tests can bound without timing anything).
    #[cfg_attr(not(test), allow(dead_code))]
    walked: usize,
}

impl Automaton {
    /// Builds the automaton of `patterns` (sequences of numbers in `1..=alphabet`, with their
    /// values). Empty patterns and numbers out of range are skipped; of equal patterns the
    /// last one's value is kept.
    pub(crate) fn new<'p>(patterns: impl IntoIterator<Item = (&'p [u32], u32)>, alphabet: u32) -> Automaton {
        let mut pats: Vec<(&[u32], u32)> = patterns
            .into_iter()
            .filter(|(p, _)| !p.is_empty() && p.iter().all(|&c| (1..=alphabet).contains(&c)))
            .collect();
        // Stable: equal patterns keep their order, so the last of a run is the last given.
        pats.sort_by(|a, b| a.0.cmp(b.0));

        // The trie, breadth-first: node i covers pats[lo..hi], which share a prefix of
        // length depth; its children are nodes first..first + n.
        struct Node {
            lo: u32,
            hi: u32,
            depth: u32,
            code: u32,
            parent: u32,
            first: u32,
            n: u32,
            value: Option<u32>,
        }
        let mut nodes: Vec<Node> = Vec::with_capacity(pats.len() * 3 + 1);
        nodes.push(Node { lo: 0, hi: pats.len() as u32, depth: 0, code: 0, parent: 0, first: 0, n: 0, value: None });
        let mut i = 0;
        while let Some(node) = nodes.get(i) {
            let (mut lo, hi, depth) = (node.lo as usize, node.hi as usize, node.depth as usize);
            let mut value = None;
            // Patterns equal to the prefix sort first.
            while let Some(&(_, v)) = pats.get(lo).filter(|(p, _)| p.len() == depth && lo < hi) {
                value = Some(v);
                lo += 1;
            }
            let first = nodes.len() as u32;
            while lo < hi {
                let code = pats[lo].0[depth];
                let mut end = lo + 1;
                while end < hi && pats[end].0[depth] == code {
                    end += 1;
                }
                nodes.push(Node {
                    lo: lo as u32,
                    hi: end as u32,
                    depth: depth as u32 + 1,
                    code,
                    parent: i as u32,
                    first: 0,
                    n: 0,
                    value: None,
                });
                lo = end;
            }
            let n = nodes.len() as u32 - first;
            let node = &mut nodes[i];
            node.value = value;
            node.first = first;
            node.n = n;
            i += 1;
        }

        // Placement: the unit of every node; the root is unit 0.
        let mut slot = vec![0u32; nodes.len()];
        let mut units: Vec<Unit> = vec![FREE];
        let mut first_free = 1usize;
        let walked = std::cell::Cell::new(0usize);
        let grow = |units: &mut Vec<Unit>, to: usize| {
            if units.len() <= to {
                units.resize(to + 1, FREE);
            }
        };
        for (i, node) in nodes.iter().enumerate() {
            if node.n == 0 {
                continue;
            }
            let children = node.first as usize..(node.first + node.n) as usize;
            if i == 0 {
                // The root's base is 0: its child by number `c` is unit `c`.
                for c in children {
                    let at = nodes[c].code as usize;
                    grow(&mut units, at);
                    units[at].check = ROOT;
                    slot[c] = at as u32;
                }
                while units.get(first_free).is_some_and(|u| u.check != NONE) {
                    first_free += 1;
                }
                continue;
            }
            let codes = || nodes[children.clone()].iter().map(|c| c.code as usize);
            let c1 = nodes[node.first as usize].code as usize;
            let fits =
                |units: &Vec<Unit>, base: usize| codes().all(|c| units.get(base + c).is_none_or(|u| u.check == NONE));
            // base + c1 is a free unit at or after `from`, base >= 0 (numbers are >= 1); at
            // most MAX_TRIES free units are tried and MAX_WALK units walked over.
            let search = |units: &Vec<Unit>, from: usize| -> Option<usize> {
                let mut pos = from.max(c1);
                let stop = pos.saturating_add(MAX_WALK);
                for _ in 0..MAX_TRIES {
                    while units.get(pos).is_some_and(|u| u.check != NONE) {
                        pos += 1;
                        walked.set(walked.get() + 1);
                        if pos >= stop {
                            return None;
                        }
                    }
                    if pos >= units.len() || fits(units, pos - c1) {
                        return Some(pos - c1);
                    }
                    pos += 1;
                }
                None
            };
            // First-fit from the first free unit; a node with children spread over much of a
            // large alphabet rarely fits among the dense front, so it is then tried over its
            // own span back from the end, where earlier such nodes left most units free (else
            // each would take a fresh span: quadratic memory for wide alphabets).
            let span = nodes[children.end - 1].code as usize - c1 + 1;
            let base = search(&units, first_free)
                .or_else(|| search(&units, units.len().saturating_sub(span)))
                .unwrap_or(units.len().max(c1) - c1);
            let parent = slot[i];
            for c in children {
                let at = base + nodes[c].code as usize;
                grow(&mut units, at);
                units[at].check = parent;
                slot[c] = at as u32;
            }
            units[parent as usize].base = base as u32;
            while units.get(first_free).is_some_and(|u| u.check != NONE) {
                first_free += 1;
            }
        }
        // (A look-up of a child past the end is a miss: `step` reads with `get`.)
        units.shrink_to_fit();

        // Failure and output links, breadth-first (a failure target is shallower, so its own
        // links are set before).
        let mut a = Automaton { units, outputs: Vec::new(), walked: walked.get() };
        for (t, node) in nodes.iter().enumerate().skip(1) {
            let fail = if node.parent == 0 {
                ROOT
            } else {
                let mut f = a.unit(slot[node.parent as usize]).fail;
                loop {
                    if let Some(x) = a.child(f, node.code) {
                        break x;
                    }
                    if f == ROOT {
                        break ROOT;
                    }
                    f = a.unit(f).fail;
                }
            };
            let inherited = a.unit(fail).out;
            let out = match node.value {
                Some(value) => {
                    a.outputs.push(Output { value, next: inherited });
                    (a.outputs.len() - 1) as u32
                }
                None => inherited,
            };
            if let Some(u) = a.units.get_mut(slot[t] as usize) {
                u.fail = fail;
                u.out = out;
            }
        }
        a
    }

    fn unit(&self, s: u32) -> Unit {
        self.units.get(s as usize).copied().unwrap_or(FREE)
    }

    /// The child of `s` by `c`, if any.
    #[inline(always)]
    fn child(&self, s: u32, c: u32) -> Option<u32> {
        let t = self.unit(s).base.wrapping_add(c);
        self.units.get(t as usize).is_some_and(|u| u.check == s).then_some(t)
    }

    /// The state after reading number `c` (`1..=alphabet`) in state `s`.
    #[inline(always)]
    pub(crate) fn step(&self, s: u32, c: u32) -> u32 {
        self.step_first(s, c).0
    }

    /// [`Automaton::step`] and the first output of the state it reaches ([`NO_OUTPUT`] when
    /// no pattern ends there), read from the unit the step checks.
    #[inline(always)]
    pub(crate) fn step_first(&self, mut s: u32, c: u32) -> (u32, u32) {
        loop {
            let Some(u) = self.units.get(s as usize) else {
                return (ROOT, NONE);
            };
            let t = u.base.wrapping_add(c);
            if let Some(v) = self.units.get(t as usize).filter(|v| v.check == s) {
                return (t, v.out);
            }
            if s == ROOT {
                return (ROOT, NONE);
            }
            s = u.fail;
        }
    }

    /// Whether a pattern starts with number `c`.
    pub(crate) fn starts_with(&self, c: u32) -> bool {
        c != ROOT && self.units.get(c as usize).is_some_and(|u| u.check == ROOT)
    }

    /// The first output of state `s` (`None` when no pattern ends there).
    #[inline(always)]
    pub(crate) fn first_output(&self, s: u32) -> Option<u32> {
        self.units.get(s as usize).map(|u| u.out).filter(|&o| o != NONE)
    }

    /// The value of output `o` and the next output of the chain.
    #[inline(always)]
    pub(crate) fn output(&self, o: u32) -> (u32, Option<u32>) {
        self.outputs.get(o as usize).map_or((0, None), |x| (x.value, Some(x.next).filter(|&n| n != NONE)))
    }

    /// The values of the patterns that end in state `s`, longest first.
    #[cfg(test)]
    pub(crate) fn values(&self, s: u32) -> impl Iterator<Item = u32> + '_ {
        let mut o = self.first_output(s);
        std::iter::from_fn(move || {
            let (value, next) = self.output(o?);
            o = next;
            Some(value)
        })
    }

    /// (states, units): how densely the double array is filled.
    pub(crate) fn fill(&self) -> (usize, usize) {
        (self.units.iter().filter(|u| u.check != NONE).count() + 1, self.units.len())
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.units.capacity() * std::mem::size_of::<Unit>() + self.outputs.capacity() * std::mem::size_of::<Output>()
    }
}

/// What the scan loop needs of an automaton: [`Automaton`] (a double array, any size) and
/// [`Dense`] (a full transition table, for small automata) both provide it.
pub(crate) trait Steps {
    /// The state after reading number `c` (`1..=alphabet`) in state `s`.
    fn step(&self, s: u32, c: u32) -> u32;
    /// The first output of state `s` (`None` when no pattern ends there).
    fn first_output(&self, s: u32) -> Option<u32>;
    /// The state after reading `c` in state `s`, and its first output ([`NO_OUTPUT`] when no
    /// pattern ends there).
    fn step_first(&self, s: u32, c: u32) -> (u32, u32);
    /// The state to step from after state `s`, once its outputs are read (the same state, or
    /// one that reads every next number the same way).
    fn resume(&self, s: u32) -> u32;
    /// The value of output `o` and the next output of the chain.
    fn output(&self, o: u32) -> (u32, Option<u32>);
}

impl Steps for Automaton {
    #[inline(always)]
    fn step(&self, s: u32, c: u32) -> u32 {
        Automaton::step(self, s, c)
    }

    #[inline(always)]
    fn first_output(&self, s: u32) -> Option<u32> {
        Automaton::first_output(self, s)
    }

    #[inline(always)]
    fn step_first(&self, s: u32, c: u32) -> (u32, u32) {
        Automaton::step_first(self, s, c)
    }

    #[inline(always)]
    fn resume(&self, s: u32) -> u32 {
        s
    }

    #[inline(always)]
    fn output(&self, o: u32) -> (u32, Option<u32>) {
        Automaton::output(self, o)
    }
}

/// A small automaton compiled into a full transition table (failure links folded in): a step is
/// one load, with no failure loop and no check.
///
/// States are renumbered: `0..with_output` are states with children and no output (the root
/// is 0), `with_output..rows` states with children and an output, `rows..` states without
/// children (all of them end a pattern). Only states with children have a row of the table:
/// a state without children reads every number like the nearest state with children on its
/// failure chain, so the scan resumes from that one (`leaf_row`) after reading its outputs.
/// Whether a pattern ends in a state is a comparison of its number, without a load.
pub(crate) struct Dense {
    /// Row `r`, number `c` (`0..=alphabet`, 0 = the root) at `r * width + c`.
    table: Vec<u16>,
    width: usize,
    with_output: u32,
    rows: u32,
    /// Per state from `rows`, the row to resume from.
    leaf_row: Vec<u16>,
    /// Per state from `with_output`, its first output.
    first_out: Vec<u32>,
    outputs: Vec<Output>,
}

impl Dense {
    /// The table of `a` (over numbers `1..=alphabet`), if it has fewer than 2^16 states and
    /// the table takes at most `budget` bytes.
    pub(crate) fn new(a: &Automaton, alphabet: u32, budget: usize) -> Option<Dense> {
        let n_units = a.units.len();
        let used = |t: usize| t == ROOT as usize || a.units[t].check != NONE;
        let mut has_children = vec![false; n_units];
        has_children[ROOT as usize] = true;
        let mut n_states = 0usize;
        for t in 0..n_units {
            if used(t) {
                n_states += 1;
                if t != ROOT as usize {
                    if let Some(h) = has_children.get_mut(a.units[t].check as usize) {
                        *h = true;
                    }
                }
            }
        }
        if n_states > usize::from(u16::MAX) {
            return None;
        }
        let width = alphabet as usize + 1;
        let n_rows = (0..n_units).filter(|&t| used(t) && has_children[t]).count();
        if n_rows.saturating_mul(width).saturating_mul(2) > budget {
            return None;
        }
        // Depth of every state (parents first: follow the chain, memoised).
        let mut depth = vec![u32::MAX; n_units];
        depth[ROOT as usize] = 0;
        for t in 0..n_units {
            if !used(t) || depth[t] != u32::MAX {
                continue;
            }
            let mut chain = vec![t];
            let mut p = a.units[t].check as usize;
            while depth.get(p).is_some_and(|&d| d == u32::MAX) {
                chain.push(p);
                p = a.units[p].check as usize;
            }
            let mut d = depth.get(p).copied().unwrap_or(0);
            for &c in chain.iter().rev() {
                d += 1;
                depth[c] = d;
            }
        }
        // Class: 0 children without output, 1 children with output, 2 no children; then by
        // depth, so the shallow (hot) rows are together.
        let class = |t: usize| match (has_children[t], a.units[t].out != NONE) {
            (true, false) => 0u8,
            (true, true) => 1,
            (false, _) => 2,
        };
        let mut order: Vec<usize> = (0..n_units).filter(|&t| used(t)).collect();
        order.sort_by_key(|&t| (class(t), depth[t], t));
        let mut id = vec![0u16; n_units];
        for (i, &t) in order.iter().enumerate() {
            id[t] = i as u16;
        }
        let with_output = order.iter().filter(|&&t| class(t) == 0).count() as u32;
        let rows = n_rows as u32;
        let mut table = vec![0u16; n_rows * width];
        for (r, &t) in order.iter().take(n_rows).enumerate() {
            let row = &mut table[r * width..(r + 1) * width];
            for (c, x) in row.iter_mut().enumerate().skip(1) {
                *x = id[a.step(t as u32, c as u32) as usize];
            }
        }
        let leaf_row = order[n_rows..]
            .iter()
            .map(|&t| {
                let mut f = a.units[t].fail as usize;
                while !has_children.get(f).copied().unwrap_or(true) {
                    f = a.units[f].fail as usize;
                }
                id.get(f).copied().unwrap_or(0)
            })
            .collect();
        let first_out = order[with_output as usize..].iter().map(|&t| a.units[t].out).collect();
        Some(Dense { table, width, with_output, rows, leaf_row, first_out, outputs: a.outputs.clone() })
    }

    /// Rows × columns of the table.
    pub(crate) fn shape(&self) -> (usize, usize) {
        (self.rows as usize, self.width)
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.table.capacity() * 2
            + self.leaf_row.capacity() * 2
            + self.first_out.capacity() * 4
            + self.outputs.capacity() * std::mem::size_of::<Output>()
    }
}

impl Steps for Dense {
    #[inline(always)]
    fn step(&self, s: u32, c: u32) -> u32 {
        self.table.get(s as usize * self.width + c as usize).map_or(ROOT, |&t| u32::from(t))
    }

    #[inline(always)]
    fn first_output(&self, s: u32) -> Option<u32> {
        if s < self.with_output {
            return None;
        }
        self.first_out.get((s - self.with_output) as usize).copied().filter(|&o| o != NONE)
    }

    #[inline(always)]
    fn step_first(&self, s: u32, c: u32) -> (u32, u32) {
        let t = self.step(s, c);
        (t, self.first_output(t).unwrap_or(NO_OUTPUT))
    }

    #[inline(always)]
    fn resume(&self, s: u32) -> u32 {
        if s < self.rows {
            return s;
        }
        self.leaf_row.get((s - self.rows) as usize).map_or(ROOT, |&r| u32::from(r))
    }

    #[inline(always)]
    fn output(&self, o: u32) -> (u32, Option<u32>) {
        self.outputs.get(o as usize).map_or((0, None), |x| (x.value, Some(x.next).filter(|&n| n != NONE)))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every (end position, value) of an overlapping search, the brute-force way; number 0 in
    /// the text is a reset (no pattern contains it).
    fn brute(patterns: &[Vec<u32>], text: &[u32]) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        for end in 1..=text.len() {
            for (v, p) in patterns.iter().enumerate() {
                if !p.is_empty() && p.len() <= end && text[end - p.len()..end] == p[..] {
                    out.push((end, v as u32));
                }
            }
        }
        out.sort_unstable();
        out
    }

    fn run(a: &Automaton, text: &[u32]) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        let mut s = ROOT;
        for (i, &c) in text.iter().enumerate() {
            s = if c == 0 { ROOT } else { a.step(s, c) };
            out.extend(a.values(s).map(|v| (i + 1, v)));
        }
        out.sort_unstable();
        out
    }

    /// Every (end position, value) a scan with `a` finds, in the order it finds them (the scan's
    /// way: the step gives the first output of the state it reaches).
    fn run_steps<S: Steps>(a: &S, text: &[u32]) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        let mut s = ROOT;
        for (i, &c) in text.iter().enumerate() {
            let (t, first) = if c == 0 { (ROOT, NO_OUTPUT) } else { a.step_first(s, c) };
            let mut o = Some(first).filter(|&o| o != NO_OUTPUT);
            while let Some(x) = o {
                let (value, next) = a.output(x);
                out.push((i + 1, value));
                o = next;
            }
            s = a.resume(t);
        }
        out
    }

    /// A random case folded into `alphabet`: distinct patterns, a text (number 0 is outside the
    /// alphabet) and the automaton of the patterns.
    fn case(alphabet: u32, raw: Vec<Vec<u32>>, text: Vec<u32>) -> (Vec<Vec<u32>>, Vec<u32>, Automaton) {
        let mut patterns: Vec<Vec<u32>> =
            raw.into_iter().map(|p| p.into_iter().map(|c| c % alphabet + 1).collect()).collect();
        patterns.sort();
        patterns.dedup();
        let text: Vec<u32> = text.into_iter().map(|c| c % (alphabet + 1)).collect();
        let a = Automaton::new(patterns.iter().enumerate().map(|(v, p)| (p.as_slice(), v as u32)), alphabet);
        (patterns, text, a)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        /// The full transition table finds the same outputs as the double array, in the same
        /// order, and what a brute-force search finds.
        #[test]
        fn dense_agrees_with_the_double_array(
            alphabet in prop_oneof![Just(1u32), Just(2u32), Just(3u32), Just(6u32), Just(40u32), Just(300u32)],
            raw in prop::collection::vec(prop::collection::vec(0u32..1000, 1..7), 0..60),
            text in prop::collection::vec(0u32..1000, 0..200),
        ) {
            let (patterns, text, a) = case(alphabet, raw, text);
            let Some(d) = Dense::new(&a, alphabet, usize::MAX) else {
                panic!("no table for a small automaton");
            };
            let found = run_steps(&d, &text);
            prop_assert_eq!(&found, &run_steps(&a, &text));
            let mut sorted = found;
            sorted.sort_unstable();
            prop_assert_eq!(sorted, brute(&patterns, &text));
        }

        /// The automaton finds exactly the occurrences a brute-force search finds, on random
        /// lexicons (small and large alphabets, nested and overlapping patterns).
        #[test]
        fn agrees_with_brute_force(
            alphabet in prop_oneof![Just(2u32), Just(3u32), Just(6u32), Just(40u32), Just(700u32)],
            raw in prop::collection::vec(prop::collection::vec(0u32..1000, 1..7), 0..60),
            text in prop::collection::vec(0u32..1000, 0..200),
        ) {
            let (patterns, text, a) = case(alphabet, raw, text);
            let expected = brute(&patterns, &text);
            prop_assert_eq!(run(&a, &text), expected.clone());
            // The scan's way: the step and the first output in one.
            let mut found = run_steps(&a, &text);
            found.sort_unstable();
            prop_assert_eq!(found, expected);
        }
    }

    #[test]
    fn outputs_come_longest_first_and_duplicates_keep_the_last_value() {
        let p: [&[u32]; 4] = [&[1, 2, 3], &[2, 3], &[3], &[2, 3]];
        let a = Automaton::new(p.iter().enumerate().map(|(v, p)| (*p, v as u32)), 3);
        let s = [1, 2, 3].iter().fold(ROOT, |s, &c| a.step(s, c));
        assert_eq!(a.values(s).collect::<Vec<_>>(), [0, 3, 2]);
        assert!(a.starts_with(2) && !Automaton::new([], 3).starts_with(2));
    }

    #[test]
    fn dense_keeps_to_its_budget() {
        let p: [&[u32]; 3] = [&[1, 2, 3], &[2, 3], &[3]];
        let a = Automaton::new(p.iter().enumerate().map(|(v, p)| (*p, v as u32)), 3);
        // Rows: the root, 1, 1-2, 2; four numbers with the root's.
        assert_eq!(Dense::new(&a, 3, 32).map(|d| d.shape()), Some((4, 4)));
        assert!(Dense::new(&a, 3, 31).is_none());
        let empty = Automaton::new([], 0);
        let d = Dense::new(&empty, 0, 2);
        assert_eq!(d.as_ref().map(|d| d.step(ROOT, 0)), Some(ROOT));
    }

    /// A crafted lexicon (found in review): free units below number `z` that no state can use
    /// (a base would be negative), then many states whose only child is `z`. Each search starts
    /// at `z` and used to walk past every unit the states before it took: quadratic.
    #[test]
    fn a_long_run_of_taken_units_is_not_walked_again_and_again() {
        let k = 40_000u32;
        let z = k + 100;
        let patterns: Vec<Vec<u32>> = (1..=k).map(|i| vec![i, z]).collect();
        let a = Automaton::new(patterns.iter().enumerate().map(|(v, p)| (&p[..], v as u32)), z + 1);
        // Without the walk limit: k²/2 = 800 M units.
        assert!(a.walked <= 2 * k as usize * MAX_WALK, "walked {} units for {k} states", a.walked);
        for (v, p) in patterns.iter().enumerate().step_by(997) {
            let st = p.iter().fold(ROOT, |st, &c| a.step(st, c));
            assert!(a.values(st).any(|x| x == v as u32), "pattern {v} not found");
        }
    }

    /// A small deterministic generator for the lexicons below (and the code tables' tests).
    pub(crate) fn xorshift(mut x: u64) -> impl FnMut() -> u64 {
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    #[test]
    fn wide_nodes_share_their_spans() {
        // 3,000 first characters, each with a few children spread over 3,000 numbers: placed
        // each past the end, their spans would take millions of units.
        let mut next = xorshift(0x2545_F491_4F6C_DD1D);
        let patterns: Vec<Vec<u32>> =
            (0..20_000).map(|_| (0..2).map(|_| (next() % 3000) as u32 + 1).collect()).collect();
        let a = Automaton::new(patterns.iter().enumerate().map(|(v, p)| (p.as_slice(), v as u32)), 3000);
        let (states, units) = a.fill();
        assert!(units < 4 * states, "{states} states in {units} units");
    }

    #[test]
    fn a_large_alphabet_builds_quickly_enough_and_finds_everything() {
        // 5,000 patterns over 500 numbers, like the generated benchmark lexicon.
        let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
        let patterns: Vec<Vec<u32>> =
            (0..5000).map(|_| (0..2 + next() % 5).map(|_| (next() % 500) as u32 + 1).collect()).collect();
        let a = Automaton::new(patterns.iter().enumerate().map(|(v, p)| (p.as_slice(), v as u32)), 500);
        for (v, p) in patterns.iter().enumerate() {
            let s = p.iter().fold(ROOT, |s, &c| a.step(s, c));
            assert!(a.values(s).any(|x| patterns[x as usize] == *p), "pattern {v}");
        }
    }
}
