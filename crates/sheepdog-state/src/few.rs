//! `Few<T>`: a list that keeps one element inline and more on the heap, in 32 bytes for the
//! store's 16- and 24-byte elements (a smallvec of one would take 40), so that a window entry
//! fits one cache line. Most windows hold one member or one sample.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Few<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: Copy> Few<T> {
    pub fn new() -> Self {
        Few::Many(Vec::new())
    }

    pub fn from_vec(v: Vec<T>) -> Self {
        match v.as_slice() {
            [x] => Few::One(*x),
            _ => Few::Many(v),
        }
    }

    pub fn into_vec(self) -> Vec<T> {
        match self {
            Few::One(x) => vec![x],
            Few::Many(v) => v,
        }
    }

    pub fn as_slice(&self) -> &[T] {
        match self {
            Few::One(x) => std::slice::from_ref(x),
            Few::Many(v) => v,
        }
    }

    pub fn as_mut_slice(&mut self) -> &mut [T] {
        match self {
            Few::One(x) => std::slice::from_mut(x),
            Few::Many(v) => v,
        }
    }

    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub fn push(&mut self, x: T) {
        match self {
            Few::Many(v) if v.is_empty() && v.capacity() == 0 => *self = Few::One(x),
            Few::Many(v) => v.push(x),
            Few::One(a) => *self = Few::Many(vec![*a, x]),
        }
    }

    pub fn remove(&mut self, i: usize) -> T {
        match self {
            Few::One(x) => {
                assert_eq!(i, 0, "index out of bounds");
                let x = *x;
                *self = Few::new();
                x
            }
            Few::Many(v) => {
                let x = v.remove(i);
                self.shrink();
                x
            }
        }
    }

    /// Back inline (or empty, without a heap block) when one element or none is left.
    fn shrink(&mut self) {
        if let Few::Many(v) = self {
            match v.as_slice() {
                [] => *self = Few::new(),
                [x] => *self = Few::One(*x),
                _ => {}
            }
        }
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        match self {
            Few::One(x) => {
                if !keep(x) {
                    *self = Few::new();
                }
            }
            Few::Many(v) => {
                v.retain(|x| keep(x));
                self.shrink();
            }
        }
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Few::One(_) => 0,
            Few::Many(v) => v.capacity() * std::mem::size_of::<T>(),
        }
    }
}

impl<T: Copy> std::ops::Deref for Few<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// `Few` behaves as a `Vec` under pushes, removals and retains.
        #[test]
        fn behaves_as_a_vec(steps in proptest::collection::vec((0u8..3, any::<u16>()), 0..60)) {
            let mut f: Few<u16> = Few::new();
            let mut v: Vec<u16> = Vec::new();
            for (op, x) in steps {
                match op {
                    0 => { f.push(x); v.push(x); }
                    1 if !v.is_empty() => {
                        let i = usize::from(x) % v.len();
                        prop_assert_eq!(f.remove(i), v.remove(i));
                    }
                    _ => { f.retain(|y| y % 3 != x % 3); v.retain(|y| y % 3 != x % 3); }
                }
                prop_assert_eq!(f.as_slice(), v.as_slice());
                prop_assert_eq!(f.len(), v.len());
                if v.len() <= 1 {
                    prop_assert_eq!(f.heap_bytes(), 0, "one element or none lives inline");
                }
            }
            prop_assert_eq!(f.into_vec(), v);
        }
    }
}
