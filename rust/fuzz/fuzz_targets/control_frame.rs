//! Control-protocol framing and request parsing (rust/control) on arbitrary
//! bytes fed in odd-sized chunks: no panic; the reader never holds more
//! than its limit between lines; without an error it yields exactly the
//! input's complete lines (`\r\n` tolerated); every request that parses
//! re-encodes to one that parses back equal.
#![no_main]

use dmnonce_control::{encode_request, parse_request, FrameReader};
use libfuzzer_sys::fuzz_target;

fn roundtrip(line: &str) {
    if let Ok((id, req)) = parse_request(line) {
        let encoded = encode_request(id, &req);
        let text = std::str::from_utf8(&encoded).expect("our own line is UTF-8");
        let text = text.strip_suffix('\n').expect("our own line ends in \\n");
        assert!(!text.contains('\n'), "an encoded request is one line");
        let (id2, req2) = parse_request(text).expect("our own request parses");
        assert_eq!(id, id2);
        assert_eq!(req, req2);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, input)) = data.split_first() else {
        return;
    };
    // Small limits reach the too-large paths; 0 is the protocol's own.
    let max = match first % 8 {
        0 => dmnonce_control::MAX_FRAME_LEN,
        n => usize::from(n) * 16 + usize::from(first / 8),
    };
    let mut reader = FrameReader::new(max);
    let mut lines = Vec::new();
    let mut errors = 0usize;
    let (mut pos, mut step) = (0usize, 1usize);
    while pos < input.len() {
        let end = (pos + step).min(input.len());
        reader.feed(&input[pos..end]);
        pos = end;
        step = step % 13 + usize::from(first % 5) + 1;
        loop {
            match reader.next_line() {
                Ok(Some(line)) => {
                    assert!(line.len() <= max, "a line over the limit came through");
                    lines.push(line);
                }
                Ok(None) => break,
                Err(_) => errors += 1,
            }
        }
        assert!(reader.pending() <= max, "reader holds more than its limit");
    }
    if errors == 0 {
        let mut expected: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
        expected.pop(); // the incomplete tail (empty when the input ends in \n)
        let expected: Vec<String> = expected
            .into_iter()
            .map(|l| {
                let l = l.strip_suffix(b"\r").unwrap_or(l);
                String::from_utf8(l.to_vec()).expect("no error means every line was UTF-8")
            })
            .collect();
        assert_eq!(lines, expected);
    }
    for line in &lines {
        roundtrip(line);
    }
    if let Ok(whole) = std::str::from_utf8(input) {
        roundtrip(whole);
    }
});
