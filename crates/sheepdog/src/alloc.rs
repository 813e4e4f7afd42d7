//! The global allocator: mimalloc, called the way its own C API is fastest.
//!
//! `mimalloc::MiMalloc` sends every request through `mi_malloc_aligned`, whose checks and
//! (when a page's free list runs out) generic aligned path cost ~50 instructions more per call
//! than `mi_malloc`. Nearly every request the engine makes asks for an alignment `mi_malloc`
//! already guarantees, so those take the plain calls; only larger alignments take the aligned
//! ones.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// Alignment of every block `mi_malloc` returns, whatever its size: blocks are whole machine
/// words cut from word-aligned pages. (Blocks of two words or more are 16-aligned on x86-64,
/// the one-word ones only 8-aligned; requests for more than a word take the aligned calls.)
const PLAIN_ALIGN: usize = std::mem::size_of::<usize>();

pub struct MiMalloc;

fn plain(layout: &Layout) -> bool {
    layout.align() <= PLAIN_ALIGN
}

// SAFETY: each method forwards to the mimalloc call that honours the layout's size and
// alignment (plain calls only for alignments `mi_malloc` guarantees); blocks from either kind
// of call are freed by `mi_free` and resized by the call of the same kind.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if plain(&layout) {
                mi::mi_malloc(layout.size()) as *mut u8
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if plain(&layout) {
                mi::mi_zalloc(layout.size()) as *mut u8
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: see the impl.
        unsafe { mi::mi_free(ptr as *mut c_void) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if plain(&layout) {
                mi::mi_realloc(ptr as *mut c_void, new_size) as *mut u8
            } else {
                mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn blocks_honour_every_alignment_and_keep_their_bytes() {
        use std::alloc::{GlobalAlloc, Layout};
        let a = super::MiMalloc;
        // Sizes that are and are not multiples of the alignment (a `Layout` need not be), with
        // many blocks alive at once: the second block of a 16-byte bin is only 16-aligned, the
        // second of an 8-byte bin only 8-aligned, so a threshold above a word fails here.
        for align in [1usize, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1usize, 7, 8, 24, 40, 100, align, align * 3, 5000] {
                let layout = Layout::from_size_align(size, align).unwrap();
                let grown = Layout::from_size_align(size * 2, align).unwrap();
                let mut live = Vec::new();
                for n in 0..64u8 {
                    // SAFETY: a non-zero size; every block is freed below with its own layout.
                    unsafe {
                        let p = a.alloc(layout);
                        assert!(!p.is_null() && (p as usize).is_multiple_of(align), "alloc {size}/{align}");
                        p.write_bytes(n, size);
                        let q = a.realloc(p, layout, size * 2);
                        assert!(!q.is_null() && (q as usize).is_multiple_of(align), "realloc {size}/{align}");
                        assert!((0..size).all(|i| *q.add(i) == n), "realloc kept the bytes ({size}/{align})");
                        let z = a.alloc_zeroed(layout);
                        assert!(!z.is_null() && (z as usize).is_multiple_of(align), "zalloc {size}/{align}");
                        assert!((0..size).all(|i| *z.add(i) == 0), "zeroed ({size}/{align})");
                        live.push((q, grown));
                        live.push((z, layout));
                    }
                }
                for (p, l) in live {
                    // SAFETY: each block once, with the layout it has now.
                    unsafe { a.dealloc(p, l) };
                }
            }
        }
    }
}
