//! A bounds-checked cursor over a byte slice, shared by the WSP and SMS
//! decoders so that no decoder indexes a slice directly.

/// Ran past the end of the input: which field was being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Truncated(pub(crate) &'static str);

pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.bytes[self.pos..]
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, Truncated> {
        let b = self.peek().ok_or(Truncated(field))?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], Truncated> {
        if n > self.remaining() {
            return Err(Truncated(field));
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Bytes up to (not including) the next NUL, consuming the NUL.
    pub(crate) fn until_nul(&mut self, field: &'static str) -> Result<&'a [u8], Truncated> {
        let rest = self.rest();
        let end = rest.iter().position(|&b| b == 0).ok_or(Truncated(field))?;
        self.pos += end + 1;
        Ok(&rest[..end])
    }
}
