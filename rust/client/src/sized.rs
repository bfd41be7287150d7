//! Structs that can grow: the `struct_size` convention of dmnonce.h's
//! opening comment (rust/client/cbindgen.toml), carried out here for
//! `dmnonce_account_spec` (input), `dmnonce_push_result` and
//! `dmnonce_event` (outputs).
//!
//! Rule for appending a field: it starts at the struct's previous `sizeof`
//! (add explicit padding first if needed), so that no older caller's tail
//! padding is read as the new field. `dmnonce_notification` is embedded in
//! two of them and so keeps its layout; a new Package #0 field goes to the
//! end of the containing structs.

use std::mem::{size_of, MaybeUninit};

use crate::buffer::check_ptr;
use crate::result::Failure;

/// # Safety
/// `repr(C)`, first field `struct_size: usize`, and the all-zero bit
/// pattern is a valid value.
pub(crate) unsafe trait Growable: Copy {}

/// The smallest size a caller may declare: room for `struct_size` itself.
const MIN_SIZE: usize = size_of::<usize>();

fn size_checked(size: usize, name: &str) -> Result<usize, Failure> {
    if size < MIN_SIZE {
        return Err(Failure::invalid(format!(
            "{name}->struct_size is {size}: set it to sizeof the struct"
        )));
    }
    Ok(size)
}

/// The caller's declared size of the output `out`, checked before the
/// daemon is asked (a call with side effects must not run when its answer
/// cannot be delivered).
///
/// # Safety
/// `out` is NULL or valid for reading its `struct_size`.
pub(crate) unsafe fn out_size<T: Growable>(out: *mut T, name: &str) -> Result<usize, Failure> {
    check_ptr(out, name)?;
    // SAFETY: non-NULL; the first field is a usize per `Growable`.
    size_checked(unsafe { out.cast::<usize>().read() }, name)
}

/// Writes `value` into the caller's `out` of `size` bytes (from
/// [`out_size`]).
///
/// # Safety
/// `out` is valid for `size` bytes of writes.
pub(crate) unsafe fn write_out<T: Growable>(out: *mut T, size: usize, mut value: T) {
    let own = size_of::<T>();
    let filled = size.min(own);
    // SAFETY: `value` is a T whose first field is a usize; `out` is valid
    // for `size` >= `filled` bytes and does not overlap our local.
    unsafe {
        (&mut value as *mut T).cast::<usize>().write(filled);
        std::ptr::copy_nonoverlapping((&value as *const T).cast::<u8>(), out.cast::<u8>(), filled);
        if size > own {
            std::ptr::write_bytes(out.cast::<u8>().add(own), 0, size - own);
        }
    }
}

/// Reads the caller's input `inp` as this library's `T`.
///
/// # Safety
/// `inp` is NULL or valid for reads of the size its `struct_size` declares.
pub(crate) unsafe fn read_in<T: Growable>(inp: *const T, name: &str) -> Result<T, Failure> {
    if inp.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-NULL; the first field is a usize per `Growable`.
    let size = size_checked(unsafe { inp.cast::<usize>().read() }, name)?;
    let own = size_of::<T>();
    if size > own {
        // SAFETY: the caller's struct spans `size` bytes.
        let extra = unsafe { std::slice::from_raw_parts(inp.cast::<u8>().add(own), size - own) };
        if extra.iter().any(|&b| b != 0) {
            return Err(Failure::invalid(format!(
                "{name} sets fields this libdmnonce ({}) does not know",
                env!("CARGO_PKG_VERSION")
            )));
        }
    }
    let mut value = MaybeUninit::<T>::zeroed();
    // SAFETY: both valid for `min(size, own)` bytes; all-zero T is valid
    // and the copied prefix holds whole fields of the caller's version.
    unsafe {
        std::ptr::copy_nonoverlapping(
            inp.cast::<u8>(),
            value.as_mut_ptr().cast::<u8>(),
            size.min(own),
        );
        Ok(value.assume_init())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::offset_of;

    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Grown {
        struct_size: usize,
        a: u64,
        b: u64,
    }
    // SAFETY: repr(C), struct_size first, all-zero valid.
    unsafe impl Growable for Grown {}

    /// Caller memory, aligned as a C struct of size_t fields is.
    #[repr(C, align(8))]
    struct Mem([u8; 32]);

    // Where Grown's fields lie in caller memory: struct_size is a size_t,
    // 4 bytes on a 32-bit target and then padding before the u64s.
    const SIZE_AT: std::ops::Range<usize> = 0..size_of::<usize>();
    const A_AT: std::ops::Range<usize> = offset_of!(Grown, a)..offset_of!(Grown, a) + 8;
    const B_AT: std::ops::Range<usize> = offset_of!(Grown, b)..offset_of!(Grown, b) + 8;
    /// An older Grown: struct_size and a.
    const OLDER: usize = offset_of!(Grown, b);
    /// A newer Grown: one more u64 after b.
    const NEWER: usize = size_of::<Grown>() + 8;

    #[test]
    fn an_older_callers_output_gets_its_fields_and_nothing_after_them() {
        // An older Grown: struct_size and a, then memory not ours.
        let mut m = Mem([0xa5u8; 32]);
        let mem = &mut m.0;
        mem[SIZE_AT].copy_from_slice(&OLDER.to_ne_bytes());
        let out = mem.as_mut_ptr().cast::<Grown>();
        let size = unsafe { out_size(out, "out") }.unwrap();
        unsafe {
            write_out(
                out,
                size,
                Grown {
                    struct_size: 0,
                    a: 7,
                    b: 9,
                },
            )
        };
        assert_eq!(
            usize::from_ne_bytes(mem[SIZE_AT].try_into().unwrap()),
            OLDER
        );
        assert_eq!(u64::from_ne_bytes(mem[A_AT].try_into().unwrap()), 7);
        assert!(
            mem[OLDER..].iter().all(|&b| b == 0xa5),
            "wrote past the caller's struct"
        );
    }

    #[test]
    fn a_newer_callers_output_has_its_unknown_fields_zeroed() {
        #[repr(C)]
        struct Newer {
            g: Grown,
            c: u64,
        }
        let mut n = Newer {
            g: Grown {
                struct_size: size_of::<Newer>(),
                a: 1,
                b: 1,
            },
            c: u64::MAX,
        };
        let out = (&mut n as *mut Newer).cast::<Grown>();
        let size = unsafe { out_size(out, "out") }.unwrap();
        unsafe {
            write_out(
                out,
                size,
                Grown {
                    struct_size: 0,
                    a: 2,
                    b: 3,
                },
            )
        };
        assert_eq!(
            (n.g.struct_size, n.g.a, n.g.b, n.c),
            (size_of::<Grown>(), 2, 3, 0)
        );
    }

    #[test]
    fn inputs_older_count_as_absent_newer_must_be_zero_unset_is_refused() {
        let mut m = Mem([0u8; 32]);
        let mem = &mut m.0;
        mem[SIZE_AT].copy_from_slice(&OLDER.to_ne_bytes());
        mem[A_AT].copy_from_slice(&5u64.to_ne_bytes());
        mem[B_AT].copy_from_slice(&6u64.to_ne_bytes()); // beyond the older size
        let got = unsafe { read_in(mem.as_ptr().cast::<Grown>(), "spec") }.unwrap();
        assert_eq!((got.a, got.b), (5, 0));

        mem[SIZE_AT].copy_from_slice(&NEWER.to_ne_bytes());
        mem[size_of::<Grown>()] = 0;
        assert_eq!(
            unsafe { read_in(mem.as_ptr().cast::<Grown>(), "spec") }
                .unwrap()
                .b,
            6
        );
        mem[size_of::<Grown>()] = 1; // a field this library does not know
        assert!(unsafe { read_in(mem.as_ptr().cast::<Grown>(), "spec") }.is_err());

        mem[SIZE_AT].copy_from_slice(&0usize.to_ne_bytes());
        assert!(unsafe { read_in(mem.as_ptr().cast::<Grown>(), "spec") }.is_err());
        assert!(unsafe { out_size(mem.as_mut_ptr().cast::<Grown>(), "out") }.is_err());
    }
}
